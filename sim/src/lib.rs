pub fn x(){}
pub mod catalog;
pub mod perf;
pub mod slicing;
