import { defineConfig, devices } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";

// Three servers, each on a loopback port picked here, each with its own
// in-memory database: one with the default lifetimes; one whose access
// tokens live 3 s (renewal, and theft with a 2 s grace window); one whose
// sessions end for good after 5 s (the expiry story). And the Flask peer of
// interop/, on a port of its own, trusting the default server's cookie.
function freePort(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return Number(execFileSync(process.execPath, ["-e", script]).toString().trim());
}

// Picked once: Playwright loads this file again in each worker, and the
// workers must see the ports the servers were started on.
process.env.E2E_PORT ??= String(freePort());
process.env.E2E_SHORT_PORT ??= String(freePort());
process.env.E2E_EXPIRING_PORT ??= String(freePort());
process.env.E2E_FLASK_PORT ??= String(freePort());
const port = Number(process.env.E2E_PORT);
const shortPort = Number(process.env.E2E_SHORT_PORT);
const expiringPort = Number(process.env.E2E_EXPIRING_PORT);
const flaskPort = Number(process.env.E2E_FLASK_PORT);
const flaskOrigin = `http://127.0.0.1:${flaskPort}`;
const secretKey = "end2end-secret-0123456789abcdef-0123456789";

const root = path.resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
const binary = process.env.AUTHBRIDGE_BIN ?? path.join(targetDir, "debug", "authbridge");
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.join(root, "target", "site");
// The virtualenv scripts/tools.sh --peers makes for interop/.
const venv =
  process.env.AUTHBRIDGE_VENV ?? path.join(process.env.HOME ?? "", ".cache", "authbridge", "venv");

function server(listenPort: number, extraEnv: Record<string, string>) {
  return {
    command: binary,
    cwd: root,
    url: `http://127.0.0.1:${listenPort}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${listenPort}`,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_OUTPUT_NAME: "authbridge",
      // `cargo leptos build` names the site's files by content hash.
      LEPTOS_HASH_FILES: "true",
      AUTHBRIDGE_ENV: "development",
      AUTHBRIDGE_DATABASE_URL: "mem://",
      SECRET_KEY: secretKey,
      RUST_LOG: "warn",
      // Every test registers from 127.0.0.1: far more than the default
      // limit per address lets through. Failed logins keep their defaults.
      AUTHBRIDGE_REGISTER_LIMIT_IP: "10000/1m",
      ...extraEnv,
    },
  };
}

// The Flask peer as its users run it, configured by environment.
function flaskPeer() {
  return {
    command: `${JSON.stringify(path.join(venv, "bin", "python"))} -m flask --app flask_peer run`,
    cwd: path.join(root, "interop", "peers"),
    url: `${flaskOrigin}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      FLASK_RUN_HOST: "127.0.0.1",
      FLASK_RUN_PORT: String(flaskPort),
      AUTHBRIDGE_URL: `http://127.0.0.1:${port}`,
      SECRET_KEY: secretKey,
      PEER_LOG_LEVEL: "WARNING",
    },
  };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: process.env.CI ? 1 : 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: [
    server(port, { AUTHBRIDGE_REDIRECT_ORIGINS: flaskOrigin }),
    server(shortPort, {
      AUTHBRIDGE_ACCESS_TTL: "3s",
      AUTHBRIDGE_JWT_LEEWAY: "0s",
      AUTHBRIDGE_REFRESH_GRACE: "2s",
    }),
    server(expiringPort, {
      AUTHBRIDGE_ACCESS_TTL: "2s",
      AUTHBRIDGE_JWT_LEEWAY: "0s",
      AUTHBRIDGE_SESSION_MAX_AGE: "5s",
    }),
    flaskPeer(),
  ],
});

