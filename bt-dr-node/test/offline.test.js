'use strict'
// Offline operations: versions, inventory, backup names and restore rules, NSB coverage,
// certificate bundles, appliance and Vault key records.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs/promises')
const os = require('node:os')
const path = require('node:path')
const bt = require('..')
const { ROOT } = require('./helpers/sim')

const P12 = path.join(ROOT, 'bt-dr-core', 'tests', 'fixtures', 'p12')
const p12 = (/** @type {string} */ name) => path.join(P12, name)

/** @param {string} code */
const hasCode = (code) => (/** @type {any} */ e) => {
  assert.ok(bt.isBtDrError(e), `expected a BtDrError, got ${e}`)
  assert.equal(e.code, code, e.message)
  assert.equal(e.name, 'BtDrError')
  return true
}

async function tmpdir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'bt-dr-node-'))
}

const INVENTORY_TOML = `
[[sites]]
name = "support"
fqdn = "support.example.com"
product = "rs"
version = "24.1.2"

[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "b300"

[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "vmware"

[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "dns-swing"

[sites.api]
client_id = "dr-account"
client_secret_env = "BT_DR_SUPPORT_SECRET"
`

test('parseVersion', () => {
  const v = bt.parseVersion('19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)')
  assert.deepEqual(v, {
    text: '19.1.8 (37380-749b17ca33d2475427428f263608ae98d69f7a35)',
    release: '19.1.8',
    major: 19,
    minor: 1,
    patch: 8,
    buildNumber: 37380,
    buildCommit: '749b17ca33d2475427428f263608ae98d69f7a35',
  })
  // The core's flat view: a bare version has null build fields, not a missing build object.
  assert.deepEqual(bt.parseVersion('24.1.2'), {
    text: '24.1.2',
    release: '24.1.2',
    major: 24,
    minor: 1,
    patch: 2,
    buildNumber: null,
    buildCommit: null,
  })
  assert.throws(() => bt.parseVersion('24.x'), hasCode('BT_DR_PARSE'))
  assert.doesNotThrow(() => JSON.stringify(v))
})

test('parseInventory and loadInventory in every format', async () => {
  const inv = bt.parseInventory(INVENTORY_TOML, 'toml')
  assert.equal(inv.sites.length, 1)
  const site = inv.sites[0]
  assert.equal(site.name, 'support')
  assert.equal(site.failover?.routing, 'dns-swing')
  assert.equal(site.api?.clientSecretEnv, 'BT_DR_SUPPORT_SECRET')
  assert.equal(site.appliances?.[0].failoverRole, 'none')
  const empty = bt.parseInventory(JSON.stringify({ sites: [] }), 'json')
  assert.deepEqual(empty.sites, [])
  // An inventory without [thresholds] gets bt-dr's documented defaults.
  assert.deepEqual(empty.thresholds, {
    maxBackupAgeHours: 26,
    certificateHorizonDays: 30,
    syncStaleFactor: 2,
    syncStaleMinHours: 1,
    minConnectivityTestIps: 2,
    minRsaBits: 2048,
  })
  assert.equal(site.customCertificate, false)
  assert.equal(site.customTls, false)
  const yaml = 'sites:\n  - name: lab\n    fqdn: lab.example.com\n    product: pra\n    version: 23.2.1\n'
  assert.equal(bt.parseInventory(yaml, 'yaml').sites[0].product, 'pra')

  const dir = await tmpdir()
  const file = path.join(dir, 'fleet.toml')
  await fs.writeFile(file, INVENTORY_TOML)
  assert.deepEqual(await bt.loadInventory(file), inv)

  // errors carry kind and location
  await fs.writeFile(path.join(dir, 'bad.toml'), '[[sites]]\nname = "x"\nfqdn = 3\n')
  await assert.rejects(bt.loadInventory(path.join(dir, 'bad.toml')), (/** @type {any} */ e) => {
    hasCode('BT_DR_PARSE')(e)
    assert.equal(e.file, path.join(dir, 'bad.toml'))
    assert.equal(typeof e.line, 'number')
    return true
  })
  await assert.rejects(bt.loadInventory(path.join(dir, 'missing.toml')), (/** @type {any} */ e) => {
    hasCode('BT_DR_IO')(e)
    assert.equal(e.path, path.join(dir, 'missing.toml'))
    return true
  })
  const twice = INVENTORY_TOML + INVENTORY_TOML.split('[[sites.appliances]]')[0]
  assert.throws(() => bt.parseInventory(twice, 'toml'), (/** @type {any} */ e) => {
    hasCode('BT_DR_INVALID_INPUT')(e)
    assert.equal(e.field, 'sites.name')
    return true
  })
  // @ts-expect-error: not a format
  assert.throws(() => bt.parseInventory('', 'ini'), hasCode('BT_DR_INVALID_INPUT'))
  await fs.rm(dir, { recursive: true })
})

test('text without a format is read as the core default format (TOML)', () => {
  const inv = bt.parseInventory(INVENTORY_TOML, 'toml')
  assert.deepEqual(bt.parseInventory(INVENTORY_TOML), inv)
  assert.deepEqual(bt.parseInventory(INVENTORY_TOML, null), inv)
  // The default is TOML, not a guess: JSON text without its format does not parse.
  assert.throws(() => bt.parseInventory(JSON.stringify({ sites: [] })), hasCode('BT_DR_PARSE'))
  const tableToml = '[[releases]]\nversion = "24.1"\nsupported_upgrades_from = ["23.2"]\n'
  assert.deepEqual(bt.parseUpgradeTable(tableToml), bt.parseUpgradeTable(tableToml, 'toml'))
  const record = '[identity]\nhostname = "h"\nappliance_version = "1"\nserial = "s"\nbase_version = "b"\nsystem_time = "2026-01-01T00:00:00Z"\n'
  assert.equal(bt.applianceRecord.parse(record).identity.hostname, 'h')
  // Format names are the core's: any case, and `yml` for YAML.
  assert.equal(bt.parseInventory('sites: []\n', /** @type {any} */ ('YML')).sites.length, 0)
})

test('parseBackupName and formatBackupName', () => {
  const n = bt.parseBackupName('bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb')
  assert.deepEqual(n, {
    fileName: 'bomgar-24.1.2-support-eu.example-20261120-5f3a9c01.nsb',
    version: '24.1.2',
    site: 'support-eu.example',
    date: '2026-11-20',
    time: null,
    id: '5f3a9c01',
  })
  assert.equal(bt.formatBackupName(n), n.fileName)
  const withTime = bt.formatBackupName({
    version: '24.1.2',
    site: 'support',
    date: new Date(Date.UTC(2026, 10, 20)),
    time: '10:11:12',
    id: 'abc123',
  })
  assert.equal(withTime, 'bomgar-24.1.2-support-20261120T101112-abc123.nsb')
  assert.equal(bt.parseBackupName(withTime).time, '10:11:12')
  assert.throws(() => bt.parseBackupName('../x.nsb'), hasCode('BT_DR_PARSE'))
  assert.throws(
    () => bt.formatBackupName({ version: '24.1.2', site: 'bad site', date: '2026-11-20', id: 'a' }),
    hasCode('BT_DR_INVALID_INPUT'),
  )
})

test('checkRestore with and without an upgrade table', async () => {
  const table = bt.parseUpgradeTable(
    '[[releases]]\nversion = "24.1"\nsupported_upgrades_from = ["23.2"]\n',
    'toml',
  )
  assert.deepEqual(table, {
    releases: [{ version: '24.1', product: null, supportedUpgradesFrom: ['23.2'] }],
  })
  assert.equal(bt.checkRestore('23.2.1', '24.1.0', { table }).compatibility, 'supported')
  assert.equal(bt.checkRestore('22.1.0', '24.1.0', { table }).compatibility, 'untested')
  const refused = bt.checkRestore('24.2.0', '24.1.1')
  assert.equal(refused.compatibility, 'refused')
  assert.equal(refused.backupVersion, '24.2.0')
  assert.match(refused.warning ?? '', /Upgrade the site/)
  const cross = bt.checkRestore('24.1.0', '24.1.0', { backupProduct: 'rs', siteProduct: 'pra' })
  assert.equal(cross.compatibility, 'refused')
  assert.throws(() => bt.checkRestore('x', '24.1.0'), hasCode('BT_DR_PARSE'))
  // @ts-expect-error: not a product
  assert.throws(() => bt.checkRestore('24.1.0', '24.1.0', { siteProduct: 'zz' }), hasCode('BT_DR_INVALID_INPUT'))

  const dir = await tmpdir()
  const file = path.join(dir, 'upgrades.json')
  await fs.writeFile(file, JSON.stringify({ releases: [{ version: '24.1', supported_upgrades_from: ['23.2'] }] }))
  assert.deepEqual(await bt.loadUpgradeTable(file), table)
  await fs.rm(dir, { recursive: true })
})

test('nsbCoverage', () => {
  const c = bt.nsbCoverage('rs')
  assert.equal(c.product, 'rs')
  assert.equal(c.includeLoggedHistory, false)
  assert.ok(c.included.length > 0)
  assert.ok(c.excluded.some((x) => x.id === 'session_recordings'))
  assert.equal(bt.nsbCoverage('pra', { includeLoggedHistory: true }).includeLoggedHistory, true)
  // @ts-expect-error: not a product
  assert.throws(() => bt.nsbCoverage('nope'), hasCode('BT_DR_INVALID_INPUT'))
})

test('checkCertificateBundle from a path and from bytes', async () => {
  const opts = { siteFqdn: 'support.example.com', applianceHostnames: ['bt-a.example.com', 'bt-b.example.com'], now: '2026-01-01T00:00:00Z' }
  const r = await bt.checkCertificateBundle(p12('default_chain.p12'), 'fixture-pass', opts)
  assert.equal(r.certificates.length, 3)
  assert.equal(r.hasPrivateKey, true)
  assert.equal(r.keyMatchesLeaf, true)
  assert.deepEqual(r.chain.length, 3)
  const leaf = r.certificates[/** @type {number} */ (r.leaf)]
  assert.equal(leaf.issuedTo, 'support.example.com')
  assert.equal(leaf.class, 'ca_signed')
  assert.ok(leaf.dnsNames.includes('bt-b.example.com'))
  assert.ok(!r.findings.some((f) => f.severity === 'error' || f.severity === 'critical'), JSON.stringify(r.findings))
  // The core's verdict comes with the report.
  assert.equal(r.usable, true)
  assert.ok(r.worst === null || r.worst === 'info' || r.worst === 'warning', String(r.worst))

  const bytes = await fs.readFile(p12('default_chain.p12'))
  assert.deepEqual(await bt.checkCertificateBundle(bytes, 'fixture-pass', opts), r)

  const expired = await bt.checkCertificateBundle(p12('expired.p12'), 'fixture-pass', opts)
  assert.ok(expired.findings.some((f) => f.severity === 'critical' || f.severity === 'error'))
  assert.equal(expired.usable, false)
  assert.equal(expired.worst, expired.findings[0].severity, 'findings are most severe first')
  const open = await bt.checkCertificateBundle(p12('no_passphrase.p12'), '', opts)
  assert.ok(open.findings.some((f) => f.id === 'no_passphrase'))

  await assert.rejects(bt.checkCertificateBundle(p12('default_chain.p12'), 'wrong'), (/** @type {any} */ e) => {
    hasCode('BT_DR_WRONG_PASSPHRASE')(e)
    assert.ok(!e.message.includes('wrong'.repeat(2)))
    return true
  })
  await assert.rejects(bt.checkCertificateBundle(p12('truncated.p12'), 'fixture-pass'), (/** @type {any} */ e) =>
    ['BT_DR_CERTIFICATE', 'BT_DR_PARSE'].includes(e.code),
  )
  await assert.rejects(bt.checkCertificateBundle(p12('nope.p12'), 'x'), hasCode('BT_DR_IO'))

  // the passphrase never shows in a result or an error
  const secret = 'fixture-pass'
  assert.ok(!JSON.stringify(r).includes(secret))
})

test('checkCertificatePair', async () => {
  const a = await bt.checkCertificateBundle(p12('default_chain.p12'), 'fixture-pass')
  const b = await bt.checkCertificateBundle(p12('legacy_chain.p12'), 'fixture-pass')
  const c = await bt.checkCertificateBundle(p12('wrong_host.p12'), 'fixture-pass')
  // Identical leaves, and both bundles usable on their own: the core's verdict for the pair.
  assert.deepEqual(bt.checkCertificatePair(a, b), { identical: true, usable: true, findings: [] })
  const diff = bt.checkCertificatePair(a, c)
  assert.equal(diff.identical, false)
  assert.equal(diff.usable, false)
  assert.equal(diff.findings[0].id, 'pair_certificate_mismatch')
  // a round trip through JSON is enough: reports are plain data
  assert.deepEqual(bt.checkCertificatePair(JSON.parse(JSON.stringify(a)), b).identical, true)
  assert.throws(() => bt.checkCertificatePair(/** @type {any} */ ({}), b), hasCode('BT_DR_INVALID_INPUT'))
})

test('applianceRecord: parse, validate, fileName, save, load', async () => {
  /** @type {import('..').ApplianceRecord} */
  const record = {
    identity: {
      hostname: 'bt-a.example.com',
      applianceVersion: '7.2.1',
      serial: 'SN123',
      baseVersion: '6.3.0',
      systemTime: '2026-11-20T10:11:12Z',
    },
    ipConfiguration: [{ name: 'eth0', addresses: ['10.0.0.5/24'], gateway: '10.0.0.1', dnsServers: ['10.0.0.2'] }],
    syslog: { enabled: true, host: 'syslog.example.com', port: 514 },
  }
  bt.applianceRecord.validate(record)
  const name = bt.applianceRecord.fileName(record)
  assert.match(name, /^appliance-bt-a\.example\.com-v7\.2\.1-sn-SN123-base-6\.3\.0-20261120T101112Z\.json$/)
  const dir = await tmpdir()
  const saved = await bt.applianceRecord.save(record, dir)
  assert.equal(saved, path.join(dir, name))
  const loaded = await bt.applianceRecord.load(saved)
  assert.equal(loaded.identity.serial, 'SN123')
  assert.equal(loaded.syslog?.host, 'syslog.example.com')
  assert.deepEqual(bt.applianceRecord.parse(await fs.readFile(saved, 'utf8'), 'json'), loaded)
  const toml = '[identity]\nhostname = "h"\nappliance_version = "1"\nserial = "s"\nbase_version = "b"\nsystem_time = "2026-01-01T00:00:00Z"\n'
  assert.equal(bt.applianceRecord.parse(toml, 'toml').identity.hostname, 'h')

  const bad = { ...record, syslog: { enabled: true } }
  assert.throws(() => bt.applianceRecord.validate(bad), (/** @type {any} */ e) => {
    hasCode('BT_DR_INVALID_INPUT')(e)
    assert.equal(e.field, 'syslog.host')
    return true
  })
  await assert.rejects(bt.applianceRecord.save(bad, dir), hasCode('BT_DR_INVALID_INPUT'))
  await fs.rm(dir, { recursive: true })
})

test('vaultKeyRecord', async () => {
  const dir = await tmpdir()
  const key = path.join(dir, 'vault.key')
  await fs.writeFile(key, 'opaque key bytes')
  const r = await bt.vaultKeyRecord(key, 'support', '2026-11-20', false)
  assert.equal(r.site, 'support')
  assert.equal(r.date, '2026-11-20')
  assert.equal(r.fileName, 'vault.key')
  assert.equal(r.size, 16)
  assert.match(r.sha256, /^[0-9a-f]{64}$/)
  assert.equal(r.findings[0].id, 'vault_key_unprotected')
  assert.ok(!JSON.stringify(r).includes('opaque key bytes'))
  const p = await bt.vaultKeyRecord(key, 'support', new Date(Date.UTC(2026, 10, 20)), true)
  assert.deepEqual(p.findings, [])
  await fs.writeFile(path.join(dir, 'empty.key'), '')
  await assert.rejects(bt.vaultKeyRecord(path.join(dir, 'empty.key'), 'support', '2026-11-20', true), hasCode('BT_DR_INTEGRITY'))
  await assert.rejects(bt.vaultKeyRecord(key, 'support', '20-11-2026', true), hasCode('BT_DR_INVALID_INPUT'))
  await fs.rm(dir, { recursive: true })
})
