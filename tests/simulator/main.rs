mod common;
mod login;
