//! `meter_provider.views[]` of the file: selector and stream, with the schema's aggregations.

use opentelemetry_sdk::metrics::Aggregation;
use otlp_core::InvalidSetting;

use super::node::Node;
use super::Reading;
use crate::config::sdk::ViewConfig;

pub(super) fn view(r: &mut Reading<'_>, node: &Node<'_>) -> Result<ViewConfig, InvalidSetting> {
    let mut view = ViewConfig::default();
    for (key, part) in node.entries(&["selector", "stream"], &mut r.warnings)? {
        if key == "selector" {
            for (key, value) in part.entries(
                &[
                    "instrument_name",
                    "instrument_type",
                    "unit",
                    "meter_name",
                    "meter_version",
                    "meter_schema_url",
                ],
                &mut r.warnings,
            )? {
                let text = value.string()?;
                match key {
                    "instrument_name" => view.instrument_name = text,
                    "instrument_type" => {
                        if let Some(kind) = &text {
                            if !INSTRUMENT_TYPES.contains(&kind.as_str()) {
                                return Err(value.error(format!(
                                    "expected one of {}",
                                    INSTRUMENT_TYPES.join(", ")
                                )));
                            }
                        }
                        view.instrument_type = text;
                    }
                    "unit" => view.unit = text,
                    "meter_name" => view.meter_name = text,
                    "meter_version" => view.meter_version = text,
                    _ => view.meter_schema_url = text,
                }
            }
            continue;
        }
        for (key, value) in part.entries(
            &[
                "name",
                "description",
                "aggregation",
                "aggregation_cardinality_limit",
                "attribute_keys",
            ],
            &mut r.warnings,
        )? {
            match key {
                "name" => view.name = value.string()?,
                "description" => view.description = value.string()?,
                "aggregation" => view.aggregation = aggregation(r, &value)?,
                "aggregation_cardinality_limit" => view.cardinality_limit = value.number(1)?,
                _ => {
                    if !value.is_null() {
                        return Err(value.error(
                            "attribute_keys are not available in the SDK (0.33) without its unstable views feature",
                        ));
                    }
                }
            }
        }
    }
    Ok(view)
}

const INSTRUMENT_TYPES: [&str; 7] = [
    "counter",
    "gauge",
    "histogram",
    "observable_counter",
    "observable_gauge",
    "observable_up_down_counter",
    "up_down_counter",
];

fn aggregation(
    r: &mut Reading<'_>,
    node: &Node<'_>,
) -> Result<Option<Aggregation>, InvalidSetting> {
    let entries = node.entries(
        &[
            "default",
            "drop",
            "sum",
            "last_value",
            "explicit_bucket_histogram",
            "base2_exponential_bucket_histogram",
        ],
        &mut r.warnings,
    )?;
    let [(kind, value)] = entries.as_slice() else {
        if entries.is_empty() {
            return Ok(None);
        }
        return Err(node.error("expected exactly one aggregation"));
    };
    Ok(Some(match *kind {
        "default" => Aggregation::Default,
        "drop" => Aggregation::Drop,
        "sum" => Aggregation::Sum,
        "last_value" => Aggregation::LastValue,
        "explicit_bucket_histogram" => {
            let mut boundaries = vec![
                0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
                5000.0, 7500.0, 10000.0,
            ];
            let mut record_min_max = true;
            for (key, n) in value.entries(&["boundaries", "record_min_max"], &mut r.warnings)? {
                if key == "boundaries" {
                    boundaries = n
                        .list()?
                        .iter()
                        .map(|b| b.float()?.ok_or_else(|| b.error("expected a number")))
                        .collect::<Result<_, _>>()?;
                    if boundaries.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(n.error("boundaries must increase"));
                    }
                } else if let Some(b) = n.boolean()? {
                    record_min_max = b;
                }
            }
            Aggregation::ExplicitBucketHistogram {
                boundaries,
                record_min_max,
            }
        }
        _ => {
            let (mut max_size, mut max_scale, mut record_min_max) = (160u32, 20i8, true);
            for (key, n) in value.entries(
                &["max_scale", "max_size", "record_min_max"],
                &mut r.warnings,
            )? {
                match key {
                    "max_scale" => {
                        if let Some(scale) = n.integer(-10)? {
                            if scale > 20 {
                                return Err(n.error("must be from -10 to 20"));
                            }
                            max_scale = i8::try_from(scale).unwrap_or(20);
                        }
                    }
                    "max_size" => {
                        if let Some(size) = n.number::<u32>(2)? {
                            max_size = size;
                        }
                    }
                    _ => {
                        if let Some(b) = n.boolean()? {
                            record_min_max = b;
                        }
                    }
                }
            }
            Aggregation::Base2ExponentialHistogram {
                max_size,
                max_scale,
                record_min_max,
            }
        }
    }))
}
