mod common;
mod delta;
mod login;
