/* The C side of the cross-binding conformance test (tests/conformance/README.md).
 *
 *   conformance OP [ARG...]
 *
 * calls one bt-dr function and prints ONE JSON line: {"result": <the function's JSON>} or
 * {"error": {"kind", "code", "message", "details"}}. The arguments are strings the runner
 * (tests/conformance/run.py) derives from the case table; "-" stands for NULL. Simulator
 * operations read the simulator from BT_DR_SIM_PRIMARY_URL, BT_DR_SIM_CLIENT_ID,
 * BT_DR_SIM_CLIENT_SECRET and BT_DR_SIM_CA_PEM_PATH. The driver decides nothing about shapes:
 * it prints what the library returns, so a shape difference shows up in the comparison. */
#include <bt_dr.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "-" is how the runner spells NULL (an omitted optional argument). */
static const char *arg(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

/* Prints the last error as the core's ErrorReport shape. `bt_dr_status_name` is the kind
 * ("parse" for BT_DR_STATUS_PARSE); the code is `BT_DR_` and the upper-cased kind, the C API's
 * spelling of the core's stable code; message and details are the library's own. */
static int print_error(bt_dr_status st) {
  const char *name = "BT_DR_STATUS_OTHER_ERROR";
  bt_dr_status_name((int32_t)st, &name);
  char code[64];
  snprintf(code, sizeof code, "BT_DR_%s", name);
  for (char *p = code; *p; p++) *p = (char)toupper((unsigned char)*p);
  size_t len = 0;
  bt_dr_last_error_message(NULL, 0, &len);
  char *msg = calloc(len + 1, 1);
  bt_dr_last_error_message(msg, len + 1, &len);
  char *details = NULL;
  if (bt_dr_last_error_details_json(&details) != BT_DR_STATUS_OK || details == NULL) details = NULL;
  /* The message is re-encoded by the runner; print it as a JSON string here. */
  printf("{\"error\":{\"kind\":\"%s\",\"code\":\"%s\",\"message\":\"", name, code);
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  printf("\",\"details\":%s}}\n", details ? details : "null");
  bt_dr_string_free(details);
  free(msg);
  return 0;
}

static int print_json(char *json) {
  printf("{\"result\":%s}\n", json);
  bt_dr_string_free(json);
  return 0;
}

/* A C string as a JSON string (for functions that return a plain string). */
static int print_string(char *s) {
  printf("{\"result\":\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  printf("\"}\n");
  bt_dr_string_free(s);
  return 0;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  *len = fread(buf, 1, n > 0 ? (size_t)n : 0, f);
  fclose(f);
  return buf;
}

/* A client of the simulator appliance at `url` (the pair's primary or backup). */
static bt_dr_status sim_client_at(const char *url, bt_dr_client **out) {
  const char *id = getenv("BT_DR_SIM_CLIENT_ID");
  const char *secret = getenv("BT_DR_SIM_CLIENT_SECRET");
  const char *ca = getenv("BT_DR_SIM_CA_PEM_PATH");
  bt_dr_client_builder *b = NULL;
  bt_dr_status st = bt_dr_client_builder_new(url, &b);
  if (st == BT_DR_STATUS_OK) st = bt_dr_client_builder_set_credentials(b, id, secret);
  if (st == BT_DR_STATUS_OK) st = bt_dr_client_builder_set_extra_ca_file(b, ca);
  if (st == BT_DR_STATUS_OK) st = bt_dr_client_builder_set_site_name(b, "support");
  if (st == BT_DR_STATUS_OK) st = bt_dr_client_builder_build(b, out);
  bt_dr_client_builder_free(b);
  return st;
}

static bt_dr_status sim_client(bt_dr_client **out) { return sim_client_at(getenv("BT_DR_SIM_PRIMARY_URL"), out); }

#define NEED(n)                                                        \
  do {                                                                 \
    if (argc != (n) + 2) {                                             \
      fprintf(stderr, "conformance: %s takes %d arguments\n", op, (n)); \
      return 2;                                                        \
    }                                                                  \
  } while (0)
#define TRY(call)                                \
  do {                                           \
    bt_dr_status st_ = (call);                   \
    if (st_ != BT_DR_STATUS_OK) return print_error(st_); \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: conformance OP [ARG...]\n");
    return 2;
  }
  const char *op = argv[1];
  char *json = NULL;
  if (strcmp(op, "parse_version") == 0) {
    NEED(1);
    TRY(bt_dr_parse_version(arg(argv[2]), &json));
    return print_json(json);
  }
  if (strcmp(op, "parse_backup_name") == 0) {
    NEED(1);
    TRY(bt_dr_parse_backup_name(arg(argv[2]), &json));
    return print_json(json);
  }
  if (strcmp(op, "format_backup_name") == 0) { /* version site date time id */
    NEED(5);
    TRY(bt_dr_format_backup_name(arg(argv[2]), arg(argv[3]), arg(argv[4]), arg(argv[5]),
                                 arg(argv[6]), &json));
    return print_string(json);
  }
  if (strcmp(op, "check_restore") == 0) { /* backup_version site_version backup_product site_product */
    NEED(4);
    bt_dr_restore_compatibility c;
    TRY(bt_dr_check_restore(arg(argv[2]), arg(argv[3]), NULL, arg(argv[4]), arg(argv[5]), &c, &json));
    return print_json(json);
  }
  if (strcmp(op, "check_restore_onto") == 0) { /* inventory_path site backup_version backup_product */
    NEED(4);
    bt_dr_inventory *inv = NULL;
    TRY(bt_dr_load_inventory(arg(argv[2]), &inv));
    bt_dr_restore_compatibility c;
    bt_dr_status st = bt_dr_check_restore_onto(inv, arg(argv[3]), arg(argv[4]), arg(argv[5]), NULL, &c, &json);
    bt_dr_inventory_free(inv);
    TRY(st);
    return print_json(json);
  }
  if (strcmp(op, "nsb_coverage") == 0) { /* product include_logged_history(0|1) */
    NEED(2);
    TRY(bt_dr_nsb_coverage(arg(argv[2]), strcmp(argv[3], "1") == 0, &json));
    return print_json(json);
  }
  if (strcmp(op, "load_inventory") == 0) {
    NEED(1);
    bt_dr_inventory *inv = NULL;
    TRY(bt_dr_load_inventory(arg(argv[2]), &inv));
    bt_dr_status st = bt_dr_inventory_to_json(inv, &json);
    bt_dr_inventory_free(inv);
    TRY(st);
    return print_json(json);
  }
  if (strcmp(op, "check_certificate_bundle") == 0) { /* p12_path passphrase options_json */
    NEED(3);
    size_t len = 0;
    unsigned char *bytes = read_file(argv[2], &len);
    if (bytes == NULL) {
      fprintf(stderr, "conformance: cannot read %s\n", argv[2]);
      return 2;
    }
    bt_dr_bundle_report *r = NULL;
    bt_dr_status st = bt_dr_check_certificate_bundle(bytes, len, arg(argv[3]), arg(argv[4]), &r);
    free(bytes);
    TRY(st);
    st = bt_dr_bundle_report_to_json(r, &json);
    bt_dr_bundle_report_free(r);
    TRY(st);
    return print_json(json);
  }
  if (strcmp(op, "appliance_record") == 0) { /* path */
    NEED(1);
    TRY(bt_dr_appliance_record(arg(argv[2]), NULL, &json));
    return print_json(json);
  }
  if (strcmp(op, "vault_key_record") == 0) { /* path site date password_protected(0|1) */
    NEED(4);
    TRY(bt_dr_vault_key_record(arg(argv[2]), arg(argv[3]), arg(argv[4]), strcmp(argv[5], "1") == 0, &json));
    return print_json(json);
  }
  if (strcmp(op, "plan_retention") == 0) { /* site sets_json policy_json */
    NEED(3);
    bt_dr_retention_plan *plan = NULL;
    TRY(bt_dr_plan_retention_for_sets(arg(argv[2]), arg(argv[3]), arg(argv[4]), &plan));
    bt_dr_status st = bt_dr_retention_plan_to_json(plan, &json);
    bt_dr_retention_plan_free(plan);
    TRY(st);
    return print_json(json);
  }
  if (strcmp(op, "verify_backup_set") == 0) { /* set_path */
    NEED(1);
    bool ok = false;
    TRY(bt_dr_verify_backup_set(arg(argv[2]), &ok, &json));
    return print_json(json);
  }
  if (strcmp(op, "audit") == 0) { /* inventory_path store_dir options_json (offline: no live state) */
    NEED(3);
    bt_dr_inventory *inv = NULL;
    TRY(bt_dr_load_inventory(arg(argv[2]), &inv));
    bt_dr_audit_report *r = NULL;
    bt_dr_status st = bt_dr_audit(inv, arg(argv[3]), NULL, NULL, arg(argv[4]), &r);
    bt_dr_inventory_free(inv);
    TRY(st);
    st = bt_dr_audit_report_to_json(r, &json);
    bt_dr_audit_report_free(r);
    TRY(st);
    return print_json(json);
  }
  if (strcmp(op, "plan_failover") == 0) { /* inventory_path site mode options_json; the sim pair */
    NEED(4);
    bt_dr_inventory *inv = NULL;
    TRY(bt_dr_load_inventory(arg(argv[2]), &inv));
    bt_dr_client *a = NULL, *b = NULL;
    bt_dr_status st = sim_client_at(getenv("BT_DR_SIM_PRIMARY_URL"), &a);
    if (st == BT_DR_STATUS_OK) st = sim_client_at(getenv("BT_DR_SIM_BACKUP_URL"), &b);
    bt_dr_failover_plan *plan = NULL;
    if (st == BT_DR_STATUS_OK)
      st = bt_dr_plan_failover_with(inv, arg(argv[3]), "bt-a.example.com", a, "bt-b.example.com", b, arg(argv[4]),
                                    arg(argv[5]), &plan);
    if (st == BT_DR_STATUS_OK) st = bt_dr_failover_plan_to_json(plan, &json);
    bt_dr_failover_plan_free(plan);
    bt_dr_client_free(b);
    bt_dr_client_free(a);
    bt_dr_inventory_free(inv);
    TRY(st);
    return print_json(json);
  }
  /* Simulator operations, against the primary appliance. */
  bt_dr_client *c = NULL;
  bt_dr_status st = BT_DR_STATUS_OK;
  if (strcmp(op, "check_health") == 0) {
    NEED(0);
    TRY(sim_client(&c));
    bt_dr_health *h = NULL;
    st = bt_dr_check_health(c, &h);
    if (st == BT_DR_STATUS_OK) st = bt_dr_health_to_json(h, &json);
    bt_dr_health_free(h);
  } else if (strcmp(op, "get_api_info") == 0) {
    NEED(0);
    TRY(sim_client(&c));
    st = bt_dr_get_api_info(c, &json);
  } else if (strcmp(op, "download_report") == 0) { /* kind window_json dir */
    NEED(3);
    TRY(sim_client(&c));
    st = bt_dr_download_report(c, arg(argv[2]), arg(argv[3]), arg(argv[4]), NULL, NULL, NULL, &json);
  } else {
    fprintf(stderr, "conformance: unknown operation %s\n", op);
    return 2;
  }
  bt_dr_client_free(c);
  TRY(st);
  return print_json(json);
}
