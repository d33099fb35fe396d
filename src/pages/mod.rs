//! One module per page.

mod account;
mod form;
mod home;
mod login;
mod not_found;
mod register;
mod remember;
mod session_keeper;

pub use account::AccountPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use register::RegisterPage;
