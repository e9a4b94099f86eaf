//! What a learner tells about themself (Open edX's UserProfile), each field optional: a plain
//! record, unlike the other values here; changes are checked in `core::accounts::check_profile_value`.

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub country: Option<String>,
    pub city: Option<String>,
    pub gender: Option<String>,
    pub level_of_education: Option<String>,
    pub year_of_birth: Option<i64>,
    pub mailing_address: Option<String>,
    pub language: Option<String>,
    pub goals: Option<String>,
    pub bio: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<String>,
}
