pub fn x(){}
pub mod profile;
