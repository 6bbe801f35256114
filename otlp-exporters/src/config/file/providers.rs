//! `tracer_provider`, `meter_provider` and `logger_provider` of the file: one processor (or
//! periodic reader) per signal, its exporter, the sampler and limits.

use otlp_core::{InvalidSetting, Signal};

use super::node::Node;
use super::{exporter, Reading};
use crate::config::sdk::{ExemplarFilter, SamplerConfig};

/// Reads `tracer_provider`; returns whether the provider exports (it is present).
pub(super) fn tracer(r: &mut Reading<'_>, node: &Node<'_>) -> Result<bool, InvalidSetting> {
    for (key, value) in node.entries(
        &["processors", "limits", "sampler", "id_generator"],
        &mut r.warnings,
    )? {
        match key {
            "processors" => processors(r, &value, Signal::Traces)?,
            "limits" => {
                for (key, limit) in value.entries(
                    &[
                        "attribute_value_length_limit",
                        "attribute_count_limit",
                        "event_count_limit",
                        "link_count_limit",
                        "event_attribute_count_limit",
                        "link_attribute_count_limit",
                    ],
                    &mut r.warnings,
                )? {
                    let n = limit.number::<u32>(0)?;
                    let limits = &mut r.config.limits;
                    let (field, name) = match key {
                        "attribute_value_length_limit" => (
                            &mut limits.span_attribute_value_length,
                            "span_attribute_value_length",
                        ),
                        "attribute_count_limit" => {
                            (&mut limits.span_attribute_count, "span_attribute_count")
                        }
                        "event_count_limit" => (&mut limits.span_event_count, "span_event_count"),
                        "link_count_limit" => (&mut limits.span_link_count, "span_link_count"),
                        "event_attribute_count_limit" => {
                            (&mut limits.event_attribute_count, "event_attribute_count")
                        }
                        _ => (&mut limits.link_attribute_count, "link_attribute_count"),
                    };
                    *field = n;
                    r.mark(format!("limits.{name}"));
                }
            }
            "sampler" => {
                if let Some(sampler) = sampler(r, &value)? {
                    r.config.sampler = sampler;
                    r.mark("sampler");
                }
            }
            _ => {
                // id_generator: only the SDK's random ids exist.
                let entries = value.entries(&["random"], &mut r.warnings)?;
                let _ = entries;
            }
        }
    }
    Ok(true)
}

/// Reads `logger_provider`.
pub(super) fn logger(r: &mut Reading<'_>, node: &Node<'_>) -> Result<bool, InvalidSetting> {
    for (key, value) in node.entries(&["processors", "limits"], &mut r.warnings)? {
        if key == "processors" {
            processors(r, &value, Signal::Logs)?;
            continue;
        }
        for (key, limit) in value.entries(
            &["attribute_value_length_limit", "attribute_count_limit"],
            &mut r.warnings,
        )? {
            let n = limit.number::<u32>(0)?;
            if key == "attribute_count_limit" {
                r.config.limits.log_record_attribute_count = n;
                r.mark("limits.log_record_attribute_count");
            } else {
                r.config.limits.log_record_attribute_value_length = n;
                r.mark("limits.log_record_attribute_value_length");
            }
        }
    }
    Ok(true)
}

/// The single processor of traces or logs.
fn processors(r: &mut Reading<'_>, node: &Node<'_>, signal: Signal) -> Result<(), InvalidSetting> {
    let items = node.list()?;
    if let Some(extra) = items.get(1) {
        return Err(extra.error("this pipeline runs one processor per signal"));
    }
    let Some(item) = items.first() else {
        r.config.exporters[crate::config::index(signal)] = crate::config::ExporterKind::None;
        r.mark(format!("{signal}.exporter"));
        return Ok(());
    };
    let entries = item.entries(&["batch", "simple"], &mut r.warnings)?;
    let [(kind, processor)] = entries.as_slice() else {
        return Err(item.error("expected exactly one of batch or simple"));
    };
    let prefix = if signal == Signal::Traces {
        "span_batch"
    } else {
        "log_batch"
    };
    let known: &[&str] = if *kind == "batch" {
        &[
            "schedule_delay",
            "export_timeout",
            "max_queue_size",
            "max_export_batch_size",
            "exporter",
        ]
    } else {
        &["exporter"]
    };
    let mut exporter_node = None;
    for (key, value) in processor.entries(known, &mut r.warnings)? {
        let batch = if signal == Signal::Traces {
            &mut r.config.span_batch
        } else {
            &mut r.config.log_batch
        };
        let field = match key {
            "schedule_delay" => value.millis(false)?.map(|d| batch.scheduled_delay = d),
            "export_timeout" => value.millis(true)?.map(|d| batch.export_timeout = d),
            "max_queue_size" => value.number(1)?.map(|n| batch.max_queue_size = n),
            "max_export_batch_size" => value.number(1)?.map(|n| batch.max_batch_size = n),
            _ => {
                exporter_node = Some(value);
                continue;
            }
        };
        if field.is_some() {
            let name = match key {
                "schedule_delay" => "scheduled_delay",
                "max_export_batch_size" => "max_batch_size",
                other => other,
            };
            r.mark(format!("{prefix}.{name}"));
        }
    }
    let batch = if signal == Signal::Traces {
        &mut r.config.span_batch
    } else {
        &mut r.config.log_batch
    };
    if *kind == "simple" {
        // A simple processor exports each item as it ends: a batch of one leaves at once.
        batch.max_batch_size = 1;
    }
    let (size, queue) = (batch.max_batch_size, batch.max_queue_size);
    if size > queue {
        // As the specification's batch processor (and the other SDKs) do: the batch is capped
        // at the queue, with a warning, rather than the file refused.
        batch.max_batch_size = queue;
        let warning = processor.warning(&format!(
            "max_export_batch_size {size} exceeds max_queue_size {queue}; using {queue}"
        ));
        r.warnings.warn(warning);
    }
    if *kind == "simple" {
        r.mark(format!("{prefix}.max_batch_size"));
    }
    let batch = if signal == Signal::Traces {
        &r.config.span_batch
    } else {
        &r.config.log_batch
    };
    batch.validate().map_err(|e| {
        processor.error(format!(
            "{} {:?}: {}",
            e.setting(),
            e.value().unwrap_or_default(),
            e.reason()
        ))
    })?;
    match exporter_node {
        Some(node) => exporter::read(r, &node, signal),
        None => Err(processor.error("an exporter is required")),
    }
}

/// A sampler; `None` for one of the schema's `/development` samplers (warned about).
fn sampler(r: &mut Reading<'_>, node: &Node<'_>) -> Result<Option<SamplerConfig>, InvalidSetting> {
    let entries = node.entries(
        &[
            "always_on",
            "always_off",
            "trace_id_ratio_based",
            "parent_based",
        ],
        &mut r.warnings,
    )?;
    let [(kind, value)] = entries.as_slice() else {
        if entries.is_empty() {
            return Ok(None);
        }
        return Err(node.error("expected exactly one sampler"));
    };
    Ok(Some(match *kind {
        "always_on" => SamplerConfig::AlwaysOn,
        "always_off" => SamplerConfig::AlwaysOff,
        "trace_id_ratio_based" => {
            let mut ratio = 1.0;
            for (_, n) in value.entries(&["ratio"], &mut r.warnings)? {
                if let Some(x) = n.float()? {
                    if !(0.0..=1.0).contains(&x) {
                        return Err(n.error("expected a ratio from 0 to 1"));
                    }
                    ratio = x;
                }
            }
            SamplerConfig::TraceIdRatio(ratio)
        }
        _ => {
            let mut root = SamplerConfig::AlwaysOn;
            let mut delegates: [Option<Box<SamplerConfig>>; 4] = Default::default();
            let names = [
                "remote_parent_sampled",
                "remote_parent_not_sampled",
                "local_parent_sampled",
                "local_parent_not_sampled",
            ];
            let mut known = vec!["root"];
            known.extend(names);
            for (key, n) in value.entries(&known, &mut r.warnings)? {
                let Some(s) = sampler(r, &n)? else { continue };
                match names.iter().position(|name| *name == key) {
                    Some(i) => delegates[i] = Some(Box::new(s)),
                    None => root = s,
                }
            }
            let [remote_parent_sampled, remote_parent_not_sampled, local_parent_sampled, local_parent_not_sampled] =
                delegates;
            SamplerConfig::ParentBased {
                root: Box::new(root),
                remote_parent_sampled,
                remote_parent_not_sampled,
                local_parent_sampled,
                local_parent_not_sampled,
            }
        }
    }))
}

/// Reads `meter_provider`.
pub(super) fn meter(r: &mut Reading<'_>, node: &Node<'_>) -> Result<bool, InvalidSetting> {
    for (key, value) in node.entries(&["readers", "views", "exemplar_filter"], &mut r.warnings)? {
        match key {
            "readers" => readers(r, &value)?,
            "views" => {
                for item in value.list()? {
                    let view = super::views::view(r, &item)?;
                    r.config.views.push(view);
                }
                r.mark("metrics.views");
            }
            _ => {
                if let Some(filter) = value.choice(&[
                    ("trace_based", ExemplarFilter::TraceBased),
                    ("always_on", ExemplarFilter::AlwaysOn),
                    ("always_off", ExemplarFilter::AlwaysOff),
                ])? {
                    r.config.exemplar_filter = filter;
                    r.mark("metrics.exemplar_filter");
                }
            }
        }
    }
    Ok(true)
}

fn readers(r: &mut Reading<'_>, node: &Node<'_>) -> Result<(), InvalidSetting> {
    let items = node.list()?;
    if let Some(extra) = items.get(1) {
        return Err(extra.error("this pipeline runs one metric reader"));
    }
    let Some(item) = items.first() else {
        r.config.exporters[1] = crate::config::ExporterKind::None;
        r.mark("metrics.exporter");
        return Ok(());
    };
    let entries = item.entries(&["periodic", "pull"], &mut r.warnings)?;
    let [(kind, reader)] = entries.as_slice() else {
        return Err(item.error("expected exactly one of periodic or pull"));
    };
    if *kind == "pull" {
        return Err(reader.error("pull readers (Prometheus) are not available; use periodic"));
    }
    let mut exporter_node = None;
    for (key, value) in reader.entries(
        &["interval", "timeout", "exporter", "cardinality_limits"],
        &mut r.warnings,
    )? {
        match key {
            "interval" => {
                if let Some(d) = value.millis(false)? {
                    r.config.metric_export_interval = d;
                    r.mark("metrics.export_interval");
                }
            }
            "timeout" => {
                if let Some(d) = value.millis(true)? {
                    r.config.metric_export_timeout = d;
                    r.mark("metrics.export_timeout");
                }
            }
            "exporter" => exporter_node = Some(value),
            _ => {
                if !value.is_null() {
                    r.warnings.warn(value.warning(
                        "per-kind cardinality limits are not applied; use a view's aggregation_cardinality_limit",
                    ));
                }
            }
        }
    }
    match exporter_node {
        Some(node) => exporter::read(r, &node, Signal::Metrics),
        None => Err(reader.error("an exporter is required")),
    }
}
