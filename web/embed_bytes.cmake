# embed_bytes(FILE BYTES_VAR LEN_VAR): the bytes of FILE as a C initializer list
# ("0x7b,0x0a,...,", NUL not included) and their count; shared by embed_static.cmake and
# embed_openapi.cmake (-P scripts, which include() this file).
function(embed_bytes file bytes_var len_var)
  file(READ ${file} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR len "${hex_len} / 2")
  string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
  set(${bytes_var} "${bytes}" PARENT_SCOPE)
  set(${len_var} ${len} PARENT_SCOPE)
endfunction()
