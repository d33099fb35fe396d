import { expect, test } from "@playwright/test";
import { AccountPage, HomePage, LoginPage, PASSWORD, logIn, signUp } from "./pages/auth-pages";

test("logging out in tab A sends tab B of the same browser to the login page", async ({ context }) => {
  const tabA = await context.newPage();
  const name = await signUp(tabA, "tabs");
  const tabB = await context.newPage();
  await tabB.goto("/account");
  await new AccountPage(tabB).goto();

  await new HomePage(tabA).logOut();
  await expect(tabA).toHaveURL(/\/login\?reason=logged_out$/);

  await expect(tabB).toHaveURL(/\/login\?reason=logged_out$/);
  await expect(tabB.locator("body")).not.toContainText(name);
});

test("logout keeps only the remembered username in the browser's storage", async ({ page }) => {
  const name = await signUp(page, "store");
  await page.evaluate(() => {
    localStorage.setItem("authbridge.draft", "something the app kept");
    localStorage.setItem("authbridge.remembered_username", "kept_name");
    sessionStorage.setItem("authbridge.view", "x");
  });
  await new HomePage(page).logOut();
  await expect(page).toHaveURL(/\/login\?reason=logged_out$/);
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });

  await expect.poll(() => page.evaluate(() => localStorage.getItem("authbridge.draft"))).toBeNull();
  expect(await page.evaluate(() => localStorage.getItem("authbridge.remembered_username"))).toBe("kept_name");
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  expect(name).not.toBe("");
});

test("log out everywhere in context A ends context B's session on its next request", async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  const name = await signUp(pageA, "every");
  await logIn(pageB, name);

  const account = new AccountPage(pageA);
  await account.goto();
  await expect(account.sessions()).toHaveCount(2);
  await expect(account.thisDevice()).toHaveCount(1);
  await expect(account.thisDevice()).toContainText("this device");
  await account.logOutEverywhere();
  await expect(pageA).toHaveURL(/\/login\?reason=logged_out$/);

  // B's access token has not expired, and still does not get in.
  await pageB.goto("/account");
  await expect(pageB).toHaveURL(/\/login\?next=.*reason=ended$/);
  await expect(new LoginPage(pageB).flash()).toHaveText("Your session was ended, please log in again.");
  await a.close();
  await b.close();
});

test("changing the password keeps this session and ends the others", async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  const name = await signUp(pageA, "chpw");
  await logIn(pageB, name);

  const account = new AccountPage(pageA);
  await account.goto();
  await account.changePassword("not the password", "a new passphrase");
  await expect(account.passwordError()).toHaveText("The current password is incorrect.");

  await account.changePassword(PASSWORD, "a new passphrase");
  await expect(account.flash()).toHaveText("Your password was changed. Your other sessions were logged out.");
  await expect(account.sessions()).toHaveCount(1);

  await pageB.goto("/");
  await expect(pageB).toHaveURL(/reason=ended$/);
  await pageA.goto("/");
  await new HomePage(pageA).expectGreets(name);
  await a.close();
  await b.close();
});
