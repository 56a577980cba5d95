/* The Atlas cluster check of the C API against a simulated cluster: a failover pair of primary
 * nodes and two traffic nodes (with-sim.sh with BT_DR_SIM_FLAGS="--traffic-node
 * tn-eu.example.com --traffic-node tn-us.example.com"; appliances 2 and 3 of the control API). */
#define _POSIX_C_SOURCE 200809L

#include "sim_control.h"
#include "test_util.h"

static const char *ca_path, *client_id, *client_secret, *control_url;

static const char *INVENTORY =
    "[[sites]]\nname = \"support\"\nfqdn = \"support.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
    "[[sites.appliances]]\nhostname = \"bt-a.example.com\"\nkind = \"vmware\"\ncluster_role = \"primary\"\n"
    "[[sites.appliances]]\nhostname = \"bt-b.example.com\"\nkind = \"vmware\"\ncluster_role = \"primary\"\n"
    "[[sites.appliances]]\nhostname = \"tn-eu.example.com\"\nkind = \"vmware\"\ncluster_role = \"traffic\"\n"
    "[[sites.appliances]]\nhostname = \"tn-us.example.com\"\nkind = \"vmware\"\ncluster_role = \"traffic\"\n"
    "[sites.failover]\nprimary = \"bt-a.example.com\"\nbackup = \"bt-b.example.com\"\nrouting = \"dns-swing\"\n"
    "[sites.atlas]\ntraffic_nodes = [{ hostname = \"tn-eu.example.com\", region = \"eu\" },"
    " { hostname = \"tn-us.example.com\", region = \"us\" }]\n"
    "[[sites]]\nname = \"plain\"\nfqdn = \"plain.example.com\"\nproduct = \"rs\"\nversion = \"24.1.2\"\n"
    "[[sites.appliances]]\nhostname = \"bt-plain.example.com\"\nkind = \"vmware\"\n";

static bt_dr_client *make_client(const char *url) {
  bt_dr_client_builder *b = NULL;
  bt_dr_client *c = NULL;
  OK(bt_dr_client_builder_new(url, &b));
  OK(bt_dr_client_builder_set_credentials(b, client_id, client_secret));
  OK(bt_dr_client_builder_set_extra_ca_file(b, ca_path));
  OK(bt_dr_client_builder_set_retry_policy(b, 2, 10, 50, 2000, 1, 1000));
  OK(bt_dr_client_builder_build(b, &c));
  bt_dr_client_builder_free(b);
  return c;
}

/* The "trend" of the node `host` in an Atlas report (nodes are objects whose keys come in
 * alphabetical order: ... "hostname", ..., "trend"). */
static void trend_of(const char *json, const char *host, char *out, size_t len) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"hostname\":\"%s\"", host);
  out[0] = 0;
  const char *p = json ? strstr(json, pat) : NULL;
  const char *t = p ? strstr(p, "\"trend\":") : NULL;
  if (t == NULL) return;
  t += strlen("\"trend\":");
  size_t i = 0;
  while (t[i] && t[i] != ',' && t[i] != '}' && i + 1 < len) {
    out[i] = t[i];
    i++;
  }
  out[i] = 0;
}

int main(void) {
  const char *primary_url = tu_env("BT_DR_SIM_PRIMARY_URL");
  const char *backup_url = tu_env("BT_DR_SIM_BACKUP_URL");
  const char *traffic_urls = tu_env("BT_DR_SIM_TRAFFIC_URLS");
  ca_path = tu_env("BT_DR_SIM_CA_PEM_PATH");
  client_id = tu_env("BT_DR_SIM_CLIENT_ID");
  client_secret = tu_env("BT_DR_SIM_CLIENT_SECRET");
  control_url = tu_env("BT_DR_SIM_CONTROL_URL");

  /* BT_DR_SIM_TRAFFIC_URLS: "https://127.0.0.1:P1,https://127.0.0.1:P2" (EU, US). */
  char eu_url[256], us_url[256];
  const char *comma = strchr(traffic_urls, ',');
  CHECK(comma != NULL);
  if (comma == NULL) return tu_done("test_atlas");
  snprintf(eu_url, sizeof eu_url, "%.*s", (int)(comma - traffic_urls), traffic_urls);
  snprintf(us_url, sizeof us_url, "%s", comma + 1);

  bt_dr_inventory *inv = NULL;
  OK(bt_dr_parse_inventory(INVENTORY, "toml", &inv));
  bt_dr_client *clients[4] = {make_client(primary_url), make_client(backup_url), make_client(eu_url),
                              make_client(us_url)};
  const char *hosts[4] = {"bt-a.example.com", "bt-b.example.com", "tn-eu.example.com", "tn-us.example.com"};
  const bt_dr_client *cs[4] = {clients[0], clients[1], clients[2], clients[3]};
  const char *fast = "{\"sample_interval_ms\":50}";

  /* A healthy cluster after a change: clients arriving on the EU node, holding on the US one. */
  CHECK(sim_control(control_url, "/appliances/2/connected_clients", "{\"counts\":[3,4]}") == 200);
  CHECK(sim_control(control_url, "/appliances/3/connected_clients", "{\"counts\":[5,5]}") == 200);
  bt_dr_severity worst = BT_DR_SEVERITY_CRITICAL;
  char *json = NULL, trend[32];
  OK(bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, fast, &worst, &json));
  CHECK(worst == BT_DR_SEVERITY_NONE);
  CONTAINS(json, "\"site\":\"support\"");
  CONTAINS(json, "\"sample_interval_ms\":50");
  CONTAINS(json, "\"findings\":[]");
  CONTAINS(json, "\"role\":\"traffic\"");
  CONTAINS(json, "\"listed_role\":\"traffic\"");
  CONTAINS(json, "\"total\":4");
  trend_of(json, "tn-eu.example.com", trend, sizeof trend);
  CHECK(strcmp(trend, "\"increasing\"") == 0);
  trend_of(json, "tn-us.example.com", trend, sizeof trend);
  CHECK(strcmp(trend, "\"steady\"") == 0);
  FREE(json);

  /* The US node leaves the cluster and carries nobody; the EU node loses clients. */
  CHECK(sim_control(control_url, "/appliances/3/cluster", "{\"member\":false}") == 200);
  CHECK(sim_control(control_url, "/appliances/3/connected_clients", "{\"counts\":[0]}") == 200);
  CHECK(sim_control(control_url, "/appliances/2/connected_clients", "{\"counts\":[5,2]}") == 200);
  OK(bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, fast, &worst, &json));
  CHECK(worst == BT_DR_SEVERITY_ERROR);
  CONTAINS(json, "\"id\":\"traffic_node_not_in_cluster\"");
  CONTAINS(json, "\"id\":\"traffic_node_no_clients\"");
  CONTAINS(json, "\"id\":\"traffic_node_clients_decreasing\"");
  CONTAINS(json, "\"listed\":false");
  trend_of(json, "tn-eu.example.com", trend, sizeof trend);
  CHECK(strcmp(trend, "\"decreasing\"") == 0);
  FREE(json);

  /* A node that is down is unreachable, and a finding, not an error of the call. */
  CHECK(sim_control(control_url, "/appliances/3/cluster", "{\"member\":true}") == 200);
  CHECK(sim_control(control_url, "/appliances/3/down", "{\"down\":true}") == 200);
  OK(bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, fast, &worst, &json));
  CONTAINS(json, "\"id\":\"cluster_node_unreachable\"");
  CONTAINS(json, "\"reachable\":false");
  FREE(json);
  CHECK(sim_control(control_url, "/appliances/3/down", "{\"down\":false}") == 200);

  /* What the core refuses: a site without Atlas, a traffic node without a client, no client at
   * all, an interval past an hour; options are the core's type (an unknown key does not parse). */
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_check_atlas_cluster(inv, "plain", hosts, cs, 1, fast, &worst, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 3, fast, &worst, &json));
  CONTAINS(tu_last_message(), "tn-us.example.com");
  FAILS(BT_DR_STATUS_INVALID_INPUT, bt_dr_check_atlas_cluster(inv, "support", NULL, NULL, 0, fast, &worst, &json));
  FAILS(BT_DR_STATUS_INVALID_INPUT,
        bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, "{\"sample_interval_ms\":3600001}", &worst, &json));
  /* Options are parsed by the core's AtlasCheckOptions::from_json, as in every binding: an
   * unknown key is invalid input, only malformed JSON is a parse error. */
  FAILS(BT_DR_STATUS_INVALID_INPUT,
        bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, "{\"interval_ms\":50}", &worst, &json));
  FAILS(BT_DR_STATUS_PARSE,
        bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, "{\"sample_interval_ms\":", &worst, &json));
  FAILS(BT_DR_STATUS_NOT_FOUND, bt_dr_check_atlas_cluster(inv, "nowhere", hosts, cs, 4, fast, &worst, &json));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_check_atlas_cluster(inv, "support", NULL, cs, 4, fast, &worst, &json));
  FAILS(BT_DR_STATUS_NULL_ARGUMENT, bt_dr_check_atlas_cluster(inv, "support", hosts, cs, 4, fast, NULL, &json));

  for (int i = 0; i < 4; i++) bt_dr_client_free(clients[i]);
  bt_dr_inventory_free(inv);
  return tu_done("test_atlas");
}
