mod common;
mod delta;
mod lists;
mod login;
mod paging;
