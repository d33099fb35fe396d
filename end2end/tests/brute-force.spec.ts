import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, signUp } from "./pages/auth-pages";

test("after five wrong passwords the form says when to try again, and the lock holds", async ({ page }) => {
  const name = await signUp(page, "locked");
  await new HomePage(page).logOut();
  const login = new LoginPage(page);
  await login.ready();

  for (let i = 0; i < 5; i++) {
    await login.logIn(name, `wrong password ${i}`);
    await expect(login.error()).toHaveText("Incorrect username or password.");
    await expect(login.submit()).toBeEnabled();
  }
  await login.logIn(name, "wrong password 5");
  await expect(login.error()).toHaveText(
    /^Incorrect username or password\. Too many attempts: try again in \d+ seconds?\.$/,
  );

  // Reloading the page neither counts nor lifts the lock.
  await page.reload();
  await login.ready();
  await login.logIn(name, PASSWORD);
  await expect(login.error()).toContainText("Too many attempts");
});
