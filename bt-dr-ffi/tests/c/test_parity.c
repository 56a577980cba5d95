/* Parity: every operation of bt_dr_operations_json() (the core's OPERATIONS list) must be a
 * function bt_dr_<name> exported by the built library (BT_DR_LIB, opened with dlopen) and
 * declared in the header (BT_DR_HEADER). */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>

#include "test_util.h"

int main(void) {
  const char *lib_path = tu_env("BT_DR_LIB");
  const char *header_path = tu_env("BT_DR_HEADER");
  void *lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "cannot open %s: %s\n", lib_path, dlerror());
    return 2;
  }
  size_t header_len = 0;
  char *header = (char *)tu_read_file(header_path, &header_len);
  CHECK(header != NULL);
  if (header == NULL) return tu_done("test_parity");
  header = realloc(header, header_len + 1);
  header[header_len] = 0;

  typedef bt_dr_status (*ops_fn)(char **);
  ops_fn ops = NULL;
  *(void **)(&ops) = dlsym(lib, "bt_dr_operations_json");
  CHECK(ops != NULL);
  typedef bt_dr_status (*free_fn)(char *);
  free_fn string_free = NULL;
  *(void **)(&string_free) = dlsym(lib, "bt_dr_string_free");
  CHECK(string_free != NULL);
  if (ops == NULL || string_free == NULL) return tu_done("test_parity");

  char *json = NULL;
  CHECK(ops(&json) == BT_DR_STATUS_OK);
  int count = 0, missing = 0;
  const char *p = json;
  const char *key = "\"name\":\"";
  while (p != NULL && (p = strstr(p, key)) != NULL) {
    p += strlen(key);
    const char *end = strchr(p, '"');
    if (end == NULL) break;
    char symbol[160];
    snprintf(symbol, sizeof symbol, "bt_dr_%.*s", (int)(end - p), p);
    count++;
    void *sym = dlsym(lib, symbol);
    char decl[200];
    snprintf(decl, sizeof decl, " %s(", symbol);
    int declared = strstr(header, decl) != NULL;
    tu_checks++;
    if (sym == NULL || !declared) {
      fprintf(stderr, "operation `%.*s` has no C counterpart: %s is %s%s\n", (int)(end - p), p, symbol,
              sym == NULL ? "not exported by the library" : "exported",
              declared ? "" : (sym == NULL ? " and not declared in bt_dr.h" : " but not declared in bt_dr.h"));
      missing++;
      tu_failures++;
    }
    p = end;
  }
  CHECK(count >= 20);
  if (missing) fprintf(stderr, "%d of %d operations lack a C function\n", missing, count);
  string_free(json);
  free(header);
  dlclose(lib);
  return tu_done("test_parity");
}
