// @ts-check
const { Client, parseInventory, parseVersion, runBackupSet, audit } = require('bt-dr')
const { readFile } = require('node:fs/promises')

/** @param {string} name */
function env(name) {
  const value = process.env[name]
  if (!value) throw new Error(`set ${name}`)
  return value
}

async function main() {
  const client = new Client({
    baseUrl: env('BT_DR_URL'), // https://support.example.com
    clientId: env('BT_DR_CLIENT_ID'),
    clientSecret: env('BT_DR_CLIENT_SECRET'),
    caPem: await readFile(env('BT_DR_CA_FILE')), // only needed for a private CA
  })

  const health = await client.checkHealth()
  console.log(`${health.hostname} runs ${health.version} as ${health.failoverRole}`)

  const inventory = parseInventory(
    `[[sites]]
name = "support"
fqdn = "support.example.com"
product = "rs"
version = "${parseVersion(health.version).release}"
[[sites.appliances]]
hostname = "${health.hostname}"
kind = "b300"`,
    'toml',
  )
  const set = await runBackupSet(env('BT_DR_STORE'), inventory.sites[0], client, {
    signal: AbortSignal.timeout(30 * 60 * 1000),
    onProgress: ({ done, total }) => process.stdout.write(`\rNSB ${done} of ${total ?? '?'} bytes`),
  })
  console.log(`\nbackup set ${set.setId}: ${set.manifest.files.length} files, NSB ${set.manifest.nsb.file}`)
  // Recordings, session reports and exit surveys go to the site's reporting archive, which the
  // set refers to: removing the set by retention keeps them.
  console.log(`reporting archive: ${set.manifest.reporting.length} new files`)
  if (set.partial) {
    // The NSB was kept, but a part (reporting data, certificate, records, Vault key) failed.
    for (const p of set.manifest.parts.filter((p) => p.status === 'failed')) {
      console.log(`PARTIAL: part ${p.part} failed (${p.error?.code}): ${p.error?.message}`)
    }
    process.exitCode = 3
  }

  const report = await audit(inventory, { store: env('BT_DR_STORE') })
  console.log(`audit: ${report.summary.critical} critical, ${report.summary.error} errors`)
  for (const f of report.findings) console.log(`  ${f.severity} ${f.id}: ${f.message}`)
}

main().catch((e) => {
  console.error(`${e.code ?? 'ERROR'}: ${e.message}`) // e.g. BT_DR_AUTH, BT_DR_TLS, BT_DR_CANCELLED
  process.exitCode = 1
})
