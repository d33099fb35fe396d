import { expect, test } from "@playwright/test";
import { AccountPage, HomePage, LoginPage, PASSWORD, RegisterPage, logIn, uniqueName } from "./pages/auth-pages";

test.use({ javaScriptEnabled: false });

test("without JavaScript: register, log out, wrong password, log in to next", async ({ page }) => {
  const name = uniqueName("nojs");
  const register = new RegisterPage(page, false);
  const home = new HomePage(page, false);
  const login = new LoginPage(page, false);

  await register.goto();
  await register.register(name, PASSWORD);
  await home.expectGreets(name);

  await home.logOut();
  await expect(page).toHaveURL(/\/login\?reason=logged_out$/);
  await expect(login.flash()).toHaveText("You have been logged out.");

  await page.goto("/?tab=nojs");
  await expect(page).toHaveURL(/\/login\?next=.*reason=required$/);

  // The checkbox needs scripts (browser storage), so it is not offered.
  await expect(login.remember()).toHaveCount(0);
  await login.logIn(name, "wrong password!");
  await expect(login.error()).toHaveText("Incorrect username or password.");
  // One message at a time, and the username is not lost.
  await expect(login.flash()).toHaveCount(0);
  await expect(login.username()).toHaveValue(name);

  await login.logIn(name, PASSWORD);
  await expect(page).toHaveURL(/\/\?tab=nojs$/);
  await home.expectGreets(name);
});

test("without JavaScript: bad registration input is explained on the form", async ({ page }) => {
  const register = new RegisterPage(page, false);
  await register.goto();
  await register.register("ab", PASSWORD);
  await expect(register.error()).toHaveText("Usernames must be at least 3 characters long.");

  await register.register(uniqueName("ok"), "short");
  await expect(register.error()).toHaveText("Passwords must be at least 8 characters long.");
});

test("without JavaScript: the account page ends sessions and changes the password", async ({ page, browser }) => {
  const name = uniqueName("nojsacct");
  await new RegisterPage(page, false).goto();
  await new RegisterPage(page, false).register(name, PASSWORD);
  await new HomePage(page, false).expectGreets(name);

  // A second device, with scripts.
  const other = await browser.newContext({ javaScriptEnabled: true });
  const otherPage = await other.newPage();
  await logIn(otherPage, name);

  const account = new AccountPage(page, false);
  await account.goto();
  await expect(account.sessions()).toHaveCount(2);

  await account.changePassword("wrong password!", "another passphrase");
  await expect(account.passwordError()).toHaveText("The current password is incorrect.");
  await account.changePassword(PASSWORD, "another passphrase");
  await expect(page).toHaveURL(/\/account\?done=password$/);
  await expect(account.flash()).toHaveText("Your password was changed. Your other sessions were logged out.");
  await expect(account.sessions()).toHaveCount(1);

  await otherPage.goto("/");
  await expect(otherPage).toHaveURL(/reason=ended$/);
  await other.close();

  await account.logOutEverywhere();
  await expect(page).toHaveURL(/\/login\?reason=logged_out$/);
});
