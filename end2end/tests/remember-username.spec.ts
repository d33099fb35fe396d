import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, signUp } from "./pages/auth-pages";

test("remember my username keeps only the name, and pre-fills it next time", async ({ page }) => {
  const name = await signUp(page, "mem");
  const home = new HomePage(page);
  const login = new LoginPage(page);
  await home.logOut();

  await login.ready();
  await login.logIn(name, PASSWORD, { remember: true });
  await home.expectGreets(name);

  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  expect(stored).toContain(name);
  expect(stored).not.toContain(PASSWORD);

  await home.logOut();
  await login.goto();
  await expect(login.username()).toHaveValue(name);
  await expect(login.remember()).toBeChecked();

  // Unticking forgets it.
  await login.logIn(name, PASSWORD, { remember: false });
  await home.expectGreets(name);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
});
