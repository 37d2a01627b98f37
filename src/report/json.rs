//! `--json`: findings v1 (DESIGN §5), streamed so large scans do not build a second copy in memory.

use std::io::{self, Write};

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::engine::Scan;
use crate::finding::{Category, Evidence, Finding, Resource, Severity, Status};
use crate::inventory::Cloud;

pub const SCHEMA: &str = "portcullis.findings/v1";

#[derive(Serialize)]
struct FindingV1<'a> {
    check_id: &'a str,
    status: Status,
    severity: Severity,
    category: Category,
    cloud: Cloud,
    account: &'a str,
    region: Option<&'a str>,
    resource: &'a Resource<'a>,
    message: &'a str,
    fingerprint: String,
    evidence: &'a Evidence,
    fixes: [&'a str; 0],
}

impl<'a> From<&'a Finding<'a>> for FindingV1<'a> {
    fn from(f: &'a Finding<'a>) -> Self {
        FindingV1 {
            check_id: f.check_id,
            status: f.status,
            severity: f.severity,
            category: f.category,
            cloud: f.cloud,
            account: f.account,
            region: f.region,
            resource: &f.resource,
            message: &f.message,
            fingerprint: f.fingerprint(),
            evidence: &f.evidence,
            fixes: [],
        }
    }
}

struct FindingList<'a>(&'a crate::engine::Findings<'a>);

impl Serialize for FindingList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&FindingV1::from(f))?;
        }
        seq.end()
    }
}

struct Document<'a>(&'a Scan<'a>);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tool {
            name: &'static str,
            version: &'static str,
        }
        let scan = self.0;
        let mut st = s.serialize_struct("Findings", 5)?;
        st.serialize_field("schema", SCHEMA)?;
        st.serialize_field("tool", &Tool { name: "portcullis", version: env!("CARGO_PKG_VERSION") })?;
        st.serialize_field("generated_at", &scan.now)?;
        st.serialize_field("findings", &FindingList(&scan.findings))?;
        st.serialize_field("coverage", &scan.coverage)?;
        st.end()
    }
}

pub fn write(scan: &Scan, out: impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &Document(scan))?;
    w.write_all(b"\n")?;
    w.flush()
}
