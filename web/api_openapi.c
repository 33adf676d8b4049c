/*
 * web/api_openapi.c: GET /api/v1/openapi.json, the OpenAPI 3.1 description of every route.
 *
 * The document is web/openapi.json, written by hand and compiled into the binary at build
 * time (web/embed_openapi.cmake makes openapi_embedded.c from it, and fails the build when it
 * is not JSON), so the served description always belongs to the binary serving it.
 * When you add or change an endpoint: update web/openapi.json; tests/web/test_openapi_http.c
 * checks that every row of the route table (web/routes.c) has its path and method there.
 */
#include <stddef.h>

#include "web/handlers.h"
#include "web/request.h"

/* web/openapi.json, generated into openapi_embedded.c (NUL-terminated; length without it). */
extern const char openapi_json[];
extern const size_t openapi_json_len;

int api_openapi(struct request *req)
{
	return reply_json(req, 200, openapi_json, openapi_json_len);
}
