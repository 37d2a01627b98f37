//! Post-incident verification (`portcullis verify`): the incident file, and (to come) the checklist
//! its items are judged into. Work in progress for issue 13: the incident file and its template.

pub mod incident;
