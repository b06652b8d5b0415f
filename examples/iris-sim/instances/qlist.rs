//! One qlist line: `^`-separated fields, cut to the instance's `fields`.

use super::registry::Instance;

/// The line of the instance at position `i` (0-based) in its registry's list.
pub(crate) fn qlist_line(i: usize, inst: &Instance) -> String {
    let c = &inst.conf;
    let status = match c.status.as_str() {
        "running" => "running, since Wed Nov 25 12:00:00 2026".to_string(),
        "down" => "down, last used Wed Nov 25 11:00:00 2026".to_string(),
        s => s.to_string(),
    };
    let superserver = (1972 + i).to_string();
    let fields = [
        inst.name.clone(),
        c.dir.clone(),
        c.version.clone(),
        status,
        if c.is_iris() { "iris.cpf" } else { "cache.cpf" }.to_string(),
        superserver.clone(),
        (52773 + i).to_string(),
        (53773 + i).to_string(),
        if c.running() {
            c.health.clone()
        } else {
            String::new()
        },
        c.product.clone(),
        c.mirror_type.clone(),
        c.mirror_status.clone(),
        c.dir.clone(),
        superserver,
    ];
    fields[..c.fields.clamp(1, fields.len())].join("^")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instances::conf::Conf;
    use std::path::PathBuf;

    fn instance(name: &str, conf: &[(&str, &str)]) -> Instance {
        let pairs: Vec<(String, String)> = conf
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Instance {
            name: name.to_string(),
            path: PathBuf::from("/nonexistent"),
            conf: Conf::from_pairs(&pairs),
        }
    }

    #[test]
    fn an_iris_line_has_all_fourteen_fields() {
        let inst = instance("IRIS", &[("product", "IRIS"), ("mirror_type", "Failover")]);
        assert_eq!(
            qlist_line(1, &inst),
            "IRIS^/usr/irissys/^2024.1.0.263.0^running, since Wed Nov 25 12:00:00 2026^\
             iris.cpf^1973^52774^53774^ok^IRIS^Failover^^/usr/irissys/^1973"
        );
    }

    #[test]
    fn a_down_cache_instance_has_no_health_and_twelve_fields() {
        let inst = instance("CACHE", &[("status", "down")]);
        assert_eq!(
            qlist_line(0, &inst),
            "CACHE^/usr/cachesys/^2018.1.4.505.1^down, last used Wed Nov 25 11:00:00 2026^\
             cache.cpf^1972^52773^53773^^^^"
        );
    }

    #[test]
    fn fields_cut_the_line_and_other_statuses_pass_as_is() {
        let inst = instance("X", &[("status", "sign-on inhibited"), ("fields", "4")]);
        assert_eq!(
            qlist_line(0, &inst),
            "X^/usr/cachesys/^2018.1.4.505.1^sign-on inhibited"
        );
        let inst = instance("X", &[("fields", "99")]);
        assert_eq!(qlist_line(0, &inst).split('^').count(), 14);
    }
}
