//! Our own inventory snapshots (`portcullis collect --out`), read back by `scan --inventory`.

use std::io::Write;

use super::{from_json, ImportError};
use crate::inventory::{Inventory, SCHEMA};

pub fn parse_snapshot(text: &str, origin: &str) -> Result<Inventory, ImportError> {
    #[derive(serde::Deserialize)]
    struct Head {
        schema: Option<String>,
    }
    let parsed: Result<Inventory, _> = serde_json::from_str(text);
    // Check the schema tag first, so a snapshot from another version says so instead of failing on
    // some field deep inside.
    let schema = match &parsed {
        Ok(inv) => Some(inv.schema.clone()),
        Err(_) => serde_json::from_str::<Head>(text).ok().and_then(|h| h.schema),
    };
    match schema.as_deref() {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(ImportError::invalid(origin, "schema", format!("unsupported inventory schema {other:?}; this build reads {SCHEMA:?}")))
        }
        None => {
            return Err(ImportError::invalid(origin, "schema", format!("not a Portcullis inventory snapshot (no \"schema\": {SCHEMA:?})")))
        }
    }
    let mut inv = match parsed {
        Ok(inv) => inv,
        Err(_) => from_json(text, origin)?,
    };
    inv.sources = vec![format!("inventory snapshot: {origin}")];
    Ok(inv)
}

pub fn write_snapshot(inv: &Inventory, out: impl Write) -> Result<(), serde_json::Error> {
    let mut w = std::io::BufWriter::new(out);
    serde_json::to_writer(&mut w, inv)?;
    w.flush().map_err(serde_json::Error::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_schema_errors() {
        let inv = crate::import::parse_authorization_details(
            r#"{"UserDetailList": [{"UserName": "a", "UserId": "AIDA1", "Arn": "arn:aws:iam::111122223333:user/a"}]}"#,
            "a.json",
        )
        .unwrap();
        let mut buf = Vec::new();
        write_snapshot(&inv, &mut buf).unwrap();
        let back = parse_snapshot(std::str::from_utf8(&buf).unwrap(), "snap.json").unwrap();
        assert_eq!(back.aws, inv.aws);
        let e = parse_snapshot(r#"{"schema": "portcullis.inventory/v9"}"#, "s.json").unwrap_err().to_string();
        assert!(e.contains("unsupported inventory schema"), "{e}");
        let e = parse_snapshot(r#"{"aws": {}}"#, "s.json").unwrap_err().to_string();
        assert!(e.contains("not a Portcullis inventory"), "{e}");
        let e = parse_snapshot(r#"{"schema": "portcullis.inventory/v1", "aws": {"accounts": [{"account_id": 5}]}}"#, "s.json").unwrap_err().to_string();
        assert!(e.contains("aws.accounts[0].account_id"), "{e}");
    }
}
