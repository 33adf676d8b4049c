# Turn web/openapi.json into a C char array (openapi_json, NUL-terminated, and its length
# openapi_json_len), so the binary serves the document it was built with.
# The build fails when the file is not JSON or has no "openapi" member (string(JSON) checks).
# Usage: cmake -DIN=openapi.json -DOUT=openapi_embedded.c -P embed_openapi.cmake
include(${CMAKE_CURRENT_LIST_DIR}/embed_bytes.cmake)
file(READ ${IN} text)
string(JSON version ERROR_VARIABLE json_error GET "${text}" openapi)
if(json_error)
  message(FATAL_ERROR "${IN} is not a valid OpenAPI JSON document: ${json_error}")
endif()
embed_bytes(${IN} bytes len)
file(WRITE ${OUT}.tmp "/* generated from web/openapi.json (OpenAPI ${version}): do not edit */\n"
  "#include <stddef.h>\n"
  "extern const char openapi_json[];\n"
  "extern const size_t openapi_json_len;\n"
  "const char openapi_json[] = {${bytes}0};\n"
  "const size_t openapi_json_len = ${len};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
