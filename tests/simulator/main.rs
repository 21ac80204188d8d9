mod common;
mod delta;
mod faults;
mod levelio;
mod lists;
mod login;
mod paging;
