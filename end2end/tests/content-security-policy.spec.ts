import { expect, test, type Page } from "@playwright/test";
import { AttackSite } from "./pages/attack-site";
import { AccountPage, HomePage, LoginPage, RegisterPage, signUp } from "./pages/auth-pages";

// With the Content-Security-Policy on, every page still hydrates and the
// browser reports no violation; other sites cannot frame our pages.

/** Collects CSP violations and console errors of `page` from here on. */
async function watchViolations(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (message) => {
    // The not-found page is visited on purpose; its 404 is logged as an error.
    const expected = message.text().includes("status of 404");
    if (message.type() === "error" && !expected) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.exposeFunction("__reportViolation", (text: string) => problems.push(`csp: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as any).__reportViolation(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return problems;
}

test("every page hydrates under the CSP without a single violation", async ({ page }) => {
  const problems = await watchViolations(page);

  const response = await page.goto("/register");
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toContain("script-src 'self' 'nonce-");
  expect(csp).not.toContain("unsafe-inline");
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });

  await signUp(page, "csp");
  await new AccountPage(page).goto();
  await page.getByRole("link", { name: "Home" }).click();
  await new HomePage(page).logOut();
  await new LoginPage(page).ready();
  await page.goto("/no-such-page");
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  await new RegisterPage(page).goto();

  expect(problems).toEqual([]);
});

test("another site cannot frame our pages", async ({ page, baseURL }) => {
  const attacker = await AttackSite.start();
  try {
    // Control: the attacker's frame of its own page loads.
    await page.goto(attacker.frame(`${attacker.origin}/`));
    await expect(page.frameLocator("iframe").locator("p")).toHaveText("attacker's own page");

    await page.goto(attacker.frame(`${baseURL}/login`));
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame).toBeDefined();
    expect(await frame!.locator("#login-form").count()).toBe(0);
  } finally {
    await attacker.stop();
  }
});
