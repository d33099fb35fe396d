import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, signUp, uniqueName } from "./pages/auth-pages";

test("a wrong password shows one error next to the form, without a reload", async ({ page }) => {
  const name = await signUp(page, "wp");
  await new HomePage(page).logOut();

  const login = new LoginPage(page);
  await login.ready();
  await page.evaluate(() => ((window as any).__sameDocument = true));

  // Hold the request a moment so the pending state can be seen.
  await page.route("**/auth/login", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 700));
    await route.continue();
  });
  await login.logIn(name, "not my password");
  await expect(login.submit()).toBeDisabled();
  await expect(login.submit()).toHaveText("Logging in…");

  await expect(login.error()).toHaveText("Incorrect username or password.");
  await expect(login.flash()).toHaveCount(0);
  await expect(login.submit()).toBeEnabled();
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // An unknown user gets exactly the same message.
  await login.logIn(uniqueName("ghost"), PASSWORD);
  await expect(login.error()).toHaveText("Incorrect username or password.");
});
