/* Tiny test helpers shared by the C tests of bt-dr (no framework needed). */
#ifndef BT_DR_TEST_UTIL_H
#define BT_DR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_dr.h"

static int tu_failures = 0;
static int tu_checks = 0;

static inline void tu_print_last_error(void) {
  char msg[512];
  size_t n = 0;
  if (bt_dr_last_error_message(msg, sizeof msg, &n) == BT_DR_STATUS_OK) {
    fprintf(stderr, "    last error: %s\n", msg);
  }
}

/* A call that must succeed. */
#define OK(call)                                                                    \
  do {                                                                              \
    bt_dr_status tu_rc = (call);                                                    \
    tu_checks++;                                                                    \
    if (tu_rc != BT_DR_STATUS_OK) {                                                 \
      fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #call, tu_rc); \
      tu_print_last_error();                                                        \
      tu_failures++;                                                                \
    }                                                                               \
  } while (0)

/* A call that must fail with `want`. */
#define FAILS(want, call)                                                            \
  do {                                                                               \
    bt_dr_status tu_rc = (call);                                                     \
    tu_checks++;                                                                     \
    if (tu_rc != (want)) {                                                           \
      fprintf(stderr, "%s:%d: %s returned %d, expected %s (%d)\n", __FILE__, __LINE__, \
              #call, tu_rc, #want, (want));                                          \
      tu_print_last_error();                                                         \
      tu_failures++;                                                                 \
    }                                                                                \
  } while (0)

/* A condition that must hold. */
#define CHECK(cond)                                                         \
  do {                                                                      \
    tu_checks++;                                                            \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      tu_failures++;                                                        \
    }                                                                       \
  } while (0)

/* Frees a bt-dr string and forgets it (out-parameters are left alone on failure, so a test
 * that reuses a variable must not free it twice). */
#define FREE(s)              \
  do {                       \
    bt_dr_string_free(s);    \
    (s) = NULL;              \
  } while (0)

/* `haystack` contains `needle` (both may be NULL: then false). */
static inline int tu_contains(const char *haystack, const char *needle) {
  return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

#define CONTAINS(s, needle)                                                              \
  do {                                                                                   \
    tu_checks++;                                                                         \
    if (!tu_contains((s), (needle))) {                                                   \
      fprintf(stderr, "%s:%d: %s does not contain %s\n    got: %s\n", __FILE__, __LINE__, \
              #s, needle, (s) ? (s) : "(null)");                                         \
      tu_failures++;                                                                     \
    }                                                                                    \
  } while (0)

/* The last error's message, into a static buffer. */
static inline const char *tu_last_message(void) {
  static char buf[1024];
  size_t n = 0;
  buf[0] = 0;
  bt_dr_last_error_message(buf, sizeof buf, &n);
  return buf;
}

/* The last error's details JSON; free with bt_dr_string_free. */
static inline char *tu_last_details(void) {
  char *json = NULL;
  if (bt_dr_last_error_details_json(&json) != BT_DR_STATUS_OK) return NULL;
  return json;
}

/* Neither the last error's message nor its details JSON contains `secret`. */
#define NO_SECRET(secret)                                                                  \
  do {                                                                                     \
    char *tu_details = tu_last_details();                                                  \
    const char *tu_msg = tu_last_message();                                                \
    tu_checks++;                                                                           \
    if (tu_details == NULL || tu_msg[0] == 0 || tu_contains(tu_msg, (secret)) ||           \
        tu_contains(tu_details, (secret))) {                                               \
      fprintf(stderr, "%s:%d: the secret %s shows in the last error\n    message: %s\n    details: %s\n", \
              __FILE__, __LINE__, #secret, tu_msg, tu_details ? tu_details : "(null)");   \
      tu_failures++;                                                                       \
    }                                                                                      \
    bt_dr_string_free(tu_details);                                                         \
  } while (0)

/* A required environment variable. */
static inline const char *tu_env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == 0) {
    fprintf(stderr, "environment variable %s is not set\n", name);
    exit(2);
  }
  return v;
}

/* Reads a whole file; free with free(). */
static inline unsigned char *tu_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  *len = got;
  return buf;
}

static inline int tu_done(const char *name) {
  if (tu_failures) {
    fprintf(stderr, "%s: %d of %d checks FAILED\n", name, tu_failures, tu_checks);
    return 1;
  }
  printf("%s: %d checks passed\n", name, tu_checks);
  return 0;
}

#endif
