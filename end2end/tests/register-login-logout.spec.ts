import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, RegisterPage, signUp, uniqueName } from "./pages/auth-pages";

test("a new user registers, sees the home page, logs out and logs back in", async ({ page }) => {
  const name = uniqueName("reg");
  const register = new RegisterPage(page);
  const home = new HomePage(page);
  const login = new LoginPage(page);

  await register.goto();
  // Marks this document: it survives only if no full page load happens.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await register.register(name, PASSWORD);

  await expect(page).toHaveURL(/\/$/);
  await home.expectGreets(name);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  await home.logOut();
  await expect(page).toHaveURL(/\/login\?reason=logged_out$/);
  await expect(login.flash()).toHaveText("You have been logged out.");

  // The home page is closed again.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=\/&reason=required$/);
  await expect(login.flash()).toHaveText("Please log in.");

  await login.ready();
  await login.logIn(name, PASSWORD);
  await home.expectGreets(name);
});

test("registering a taken name shows the error next to the form", async ({ page }) => {
  const name = await signUp(page, "Taken");
  await new HomePage(page).logOut();
  const register = new RegisterPage(page);

  await register.goto();
  await register.register(name.toLowerCase(), PASSWORD);
  await expect(register.error()).toHaveText("That username is already taken.");
  await expect(page).toHaveURL(/\/register$/);
});
