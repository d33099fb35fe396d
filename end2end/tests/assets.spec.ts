import { expect, test } from "@playwright/test";
import { LoginPage } from "./pages/auth-pages";

test("the site's files come compressed, under hashed names cached for a year", async ({ page, request }) => {
  const assets: { url: string; headers: Record<string, string> }[] = [];
  page.on("response", async (response) => {
    if (new URL(response.url()).pathname.startsWith("/pkg/")) {
      assets.push({ url: response.url(), headers: await response.allHeaders() });
    }
  });
  await new LoginPage(page).goto();

  const kinds = assets.map((a) => a.url.split(".").pop()).sort();
  expect(kinds).toEqual(["css", "js", "wasm"]);
  for (const asset of assets) {
    expect(asset.url).toMatch(/\/pkg\/authbridge\.[A-Za-z0-9_-]{16,}\.(css|js|wasm)$/);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(["br", "gzip", "zstd"]).toContain(asset.headers["content-encoding"]);
  }
  // A client that only speaks gzip gets gzip.
  const wasm = assets.find((a) => a.url.endsWith(".wasm"))!;
  const gz = await request.get(wasm.url, { headers: { "Accept-Encoding": "gzip" } });
  expect(gz.headers()["content-encoding"]).toBe("gzip");

  // The hashed stylesheet is the one the page uses.
  const background = await page.locator(".card").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).not.toBe("rgba(0, 0, 0, 0)");
});
