import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, RegisterPage, uniqueName } from "./pages/auth-pages";

test("remember my username keeps only the name, and pre-fills it next time", async ({ page }) => {
  const name = uniqueName("mem");
  const register = new RegisterPage(page);
  const home = new HomePage(page);
  const login = new LoginPage(page);
  await register.goto();
  await register.register(name, PASSWORD);
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
