# Turn metrics/tiers.tsv into a C char array (tiers_builtin), so the binary carries its data.
# Usage: cmake -DIN=tiers.tsv -DOUT=tiers_builtin.c -P embed_tiers.cmake
file(READ ${IN} hex HEX)
string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}.tmp "/* generated from metrics/tiers.tsv: do not edit */\nconst char tiers_builtin[] = {${bytes}0};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
