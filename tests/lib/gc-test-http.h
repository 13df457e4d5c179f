/* gc-test-http.h: raw HTTP for the tests
 *
 * gc_test_http_request() sends arbitrary request bytes (over TLS if given
 * a trust store) and reads back status, headers and body, waiting with
 * the one deadline of gc-test-wait.h:
 *
 *   g_autoptr(GcTestHttpResponse) response =
 *     gc_test_http_get ("127.0.0.1", ts->port, NULL, "/healthz");
 *   g_assert_cmpuint (response->status, ==, 200);
 *
 * gc_test_upgrade_request() builds a valid WebSocket upgrade to send
 * as is or to spoil; gc_test_http_assert_refusal() checks a JSON refusal
 * (docs/protocol.md §3.6).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "gc-test-wait.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Raw HTTP                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;
  char               *body_text;  /* NUL-terminated copy */
  JsonObject         *json;       /* the body, if a JSON object */
} GcTestHttpResponse;

void gc_test_http_response_free (GcTestHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestHttpResponse, gc_test_http_response_free)

/* Sends @request verbatim to @host:@port (over TLS trusting @tls_database
 * if not %NULL) and reads the response (to its Content-Length or EOF). */
GcTestHttpResponse *gc_test_http_request (const char   *host,
                                          guint16       port,
                                          GTlsDatabase *tls_database,
                                          const char   *request);
/* "GET @path" with Connection: close. */
GcTestHttpResponse *gc_test_http_get     (const char   *host,
                                          guint16       port,
                                          GTlsDatabase *tls_database,
                                          const char   *path);
/* A valid WebSocket upgrade request for @path_and_query, plus @extra_headers
 * (each ending in CRLF; may be %NULL). @version NULL means "13". */
char               *gc_test_upgrade_request (const char *path_and_query,
                                             const char *version,
                                             const char *extra_headers);

/* What a raw upgrade request for @path_and_query (see
 * gc_test_upgrade_request()) to 127.0.0.1:@port gets. */
GcTestHttpResponse *gc_test_http_upgrade    (guint16     port,
                                             const char *path_and_query,
                                             const char *version,
                                             const char *extra_headers);
/* Asserts that upgrade is refused with @status and @code, or accepted (101). */
void                gc_test_assert_upgrade_refused  (guint16     port,
                                                     const char *path_and_query,
                                                     guint       status,
                                                     const char *code);
void                gc_test_assert_upgrade_accepted (guint16     port,
                                                     const char *path_and_query);

/* Asserts a JSON refusal: @status, Content-Type application/json and the
 * `error` @code with a string `message`. */
void gc_test_http_assert_refusal_full (GcTestHttpResponse *response,
                                       guint               status,
                                       const char         *code,
                                       const char         *file,
                                       int                 line);
#define gc_test_http_assert_refusal(response, status, code) \
  gc_test_http_assert_refusal_full ((response), (status), (code), __FILE__, __LINE__)

/* The same, but over HTTP whatever the code: what a full or draining
 * server answers even to valid upgrades (docs/protocol.md §3.6). */
void gc_test_http_assert_http_refusal_full (GcTestHttpResponse *response,
                                            guint               status,
                                            const char         *code,
                                            const char         *file,
                                            int                 line);
#define gc_test_http_assert_http_refusal(response, status, code) \
  gc_test_http_assert_http_refusal_full ((response), (status), (code), __FILE__, __LINE__)


/* ------------------------------------------------------------------ */
/* Pieces                                                               */
/* ------------------------------------------------------------------ */

/* Where the blank line ending an HTTP header block starts in @data, or
 * %NULL. */
const guint8 *gc_test_find_header_end    (const guint8 *data,
                                          gsize         len);
/* @text as a JSON object (transfer full), or %NULL if it is not one. */
JsonObject   *gc_test_parse_json_object  (const char   *text,
                                          gsize         len);

G_END_DECLS
