// The Node side of the conformance test: runs ONE case through the bt-dr Node package.
//
//   node run_node.js CASE_JSON
//
// prints one JSON line, {"result": ...} or {"error": {"kind", "code", "message", "details"}}.
// It maps the case's named arguments to the package's call and nothing else: no shape is
// decided here. Simulator cases read the simulator from BT_DR_CONFORMANCE_SIM.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const bt = require(path.join(__dirname, '..', '..', 'bt-dr-node'))

// A client of the simulator pair's primary (or, with 'backup_url', its backup).
function client(which = 'primary_url') {
  const sim = JSON.parse(process.env.BT_DR_CONFORMANCE_SIM)
  return new bt.Client({
    baseUrl: sim[which],
    clientId: sim.client_id,
    clientSecret: sim.client_secret,
    caPem: fs.readFileSync(sim.ca_pem_path),
    siteName: 'support',
  })
}

// The case table spells option keys as the core does (snake_case); the Node package's public
// convention is camelCase keys, so option objects are spelled its way: the mirror of the
// runner's key normalisation of outputs (README.md, rule 6), mechanical, values untouched.
function camelKeys(o) {
  if (o === null || o === undefined) return o
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]))
}

async function site(inventory, name) {
  return (await bt.loadInventory(inventory)).sites.find((s) => s.name === name)
}

const OPS = {
  parse_version: (a) => bt.parseVersion(a.text),
  parse_backup_name: (a) => bt.parseBackupName(a.name),
  format_backup_name: (a) =>
    bt.formatBackupName({ version: a.version, site: a.site, date: a.date, id: a.id, time: a.time ?? null }),
  check_restore: (a) =>
    bt.checkRestore(a.backup_version, a.site_version, {
      backupProduct: a.backup_product ?? null,
      siteProduct: a.site_product ?? null,
    }),
  check_restore_onto: async (a) =>
    bt.checkRestoreOnto(
      await site(a.inventory, a.site),
      a.backup_version,
      { backupProduct: a.backup_product ?? null },
    ),
  nsb_coverage: (a) => bt.nsbCoverage(a.product, { includeLoggedHistory: a.include_logged_history ?? false }),
  load_inventory: (a) => bt.loadInventory(a.path),
  check_certificate_bundle: (a) =>
    bt.checkCertificateBundle(fs.readFileSync(a.p12), a.passphrase, a.options ?? null),
  appliance_record: (a) => bt.applianceRecord.load(a.path),
  vault_key_record: (a) => bt.vaultKeyRecord(a.path, a.site, a.date, a.password_protected),
  verify_backup_set: (a) => bt.verifyBackupSet(a.set),
  // Node takes the store inside its options object.
  audit: async (a) =>
    bt.audit(await bt.loadInventory(a.inventory), { ...camelKeys(a.options), store: a.store ?? null }),
  plan_failover: async (a) =>
    bt.planFailover(
      await site(a.inventory, a.site),
      [
        { hostname: 'bt-a.example.com', client: client() },
        { hostname: 'bt-b.example.com', client: client('backup_url') },
      ],
      a.mode,
      camelKeys(a.options),
    ),
  check_health: () => client().checkHealth(),
  get_api_info: () => client().getApiInfo(),
  download_report: (a) => client().downloadReport(a.kind, a.window, a.dir),
}

async function main() {
  const c = JSON.parse(process.argv[2])
  let out
  try {
    const op = OPS[c.op]
    if (!op) throw new Error(`run_node.js: no mapping for operation ${c.op}`)
    out = { result: await op(c.args ?? {}) }
  } catch (e) {
    if (!bt.isBtDrError(e)) throw e
    out = { error: { kind: e.kind, code: e.code, message: e.message, details: e.details ?? null } }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(2)
})
