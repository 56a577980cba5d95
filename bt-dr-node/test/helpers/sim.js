'use strict'
// Starts the appliance simulator (target/debug/bt-dr-sim, built by `make sim`) as a subprocess
// and drives its control API. Each test file starts its own and stops it in `after`.

const { spawn } = require('node:child_process')
const { readFile } = require('node:fs/promises')
const path = require('node:path')
const readline = require('node:readline')

const ROOT = path.resolve(__dirname, '..', '..', '..')
const SIM_BIN =
  process.env.BT_DR_SIM_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug', 'bt-dr-sim')

/**
 * @typedef {object} SimInfo
 * @property {string} primary_url
 * @property {string | null} backup_url
 * @property {string} ca_pem_path
 * @property {string} client_id
 * @property {string} client_secret
 * @property {string} readonly_client_id
 * @property {string} readonly_client_secret
 * @property {string} site_hostname
 * @property {string} product
 * @property {string} version
 * @property {string} leaf_cert_sha256
 * @property {string | null} backup_leaf_cert_sha256 differs from leaf_cert_sha256 with `--distinct-certificates`
 * @property {string[]} traffic_urls Atlas traffic nodes (`--traffic-node HOST`), in flag order
 * @property {string} site_url the site's own address (a forwarder a DNS swing moves: `take_site_address`)
 * @property {string} control_url
 */

class Sim {
  /**
   * @param {import('node:child_process').ChildProcess} child
   * @param {SimInfo} info
   * @param {Buffer} caPem
   */
  constructor(child, info, caPem) {
    this.child = child
    this.info = info
    this.caPem = caPem
  }

  /**
   * @param {string[]} [args] extra simulator flags (e.g. `--single`, `--backup-size 65536`)
   * @returns {Promise<Sim>}
   */
  static async start(args = []) {
    const child = spawn(SIM_BIN, ['--control-port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    const info = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) })
      const timer = setTimeout(() => reject(new Error(`bt-dr-sim did not start: ${stderr}`)), 20000)
      rl.once('line', (line) => {
        clearTimeout(timer)
        rl.close()
        resolve(JSON.parse(line))
      })
      child.once('error', (e) => {
        clearTimeout(timer)
        reject(new Error(`cannot run ${SIM_BIN} (run \`make sim\` first): ${e.message}`))
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`bt-dr-sim exited with ${code}: ${stderr}`))
      })
    })
    const caPem = await readFile(info.ca_pem_path)
    return new Sim(child, info, caPem)
  }

  /** Client options for the primary (or the backup) appliance, with quick retries. */
  clientOptions(which = 'primary', extra = {}) {
    const url = which === 'backup' ? this.info.backup_url : this.info.primary_url
    return {
      baseUrl: /** @type {string} */ (url),
      clientId: this.info.client_id,
      clientSecret: this.info.client_secret,
      caPem: this.caPem,
      siteName: 'support',
      retry: { initialBackoffMs: 20, maxBackoffMs: 100, maxTotalMs: 3000 },
      ...extra,
    }
  }

  /**
   * POSTs to the control API, e.g. `control('/appliances/0/fault', {...})`.
   * @param {string} route
   * @param {unknown} [body]
   */
  async control(route, body = {}) {
    const r = await fetch(this.info.control_url + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const j = await r.json()
    if (!r.ok) throw new Error(`control ${route}: ${JSON.stringify(j)}`)
    return j
  }

  async state() {
    const r = await fetch(this.info.control_url + '/state')
    return r.json()
  }

  async stop() {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

module.exports = { Sim, SIM_BIN, ROOT }
