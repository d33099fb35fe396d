import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, signUp } from "./pages/auth-pages";

// On this server a session ends for good 5 s after login.
test.use({ baseURL: `http://127.0.0.1:${process.env.E2E_EXPIRING_PORT}` });

test("an expired session lands on login with the expired message and returns to next", async ({ page }) => {
  const name = await signUp(page, "exp");
  const home = new HomePage(page);

  await page.waitForTimeout(6_000);
  await page.goto("/?from=expiry");

  await expect(page).toHaveURL(/\/login\?next=.*reason=expired$/);
  const login = new LoginPage(page);
  await expect(login.flash()).toHaveText("Your session has expired, please log in again.");
  await expect(page.locator("body")).not.toContainText(`Hello, ${name}`);

  await login.ready();
  await login.logIn(name, PASSWORD);
  await expect(page).toHaveURL(/\/\?from=expiry$/);
  await home.expectGreets(name);
});
