//! The SDK-level settings the specification defines beside the exporter's: which exporter
//! each signal uses, propagators, the sampler, limits, metric temporality and aggregation.

use std::fmt;

/// What a signal is exported with (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`,
/// `OTEL_LOGS_EXPORTER`; the file's `exporter` of a processor or reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExporterKind {
    /// OTLP to a collector (the default).
    #[default]
    Otlp,
    /// A readable line per item on standard output.
    Console,
    /// Nothing is exported for the signal; its provider records nothing.
    None,
}

impl ExporterKind {
    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExporterKind::Otlp => "otlp",
            ExporterKind::Console => "console",
            ExporterKind::None => "none",
        }
    }
}

/// A context propagator (`OTEL_PROPAGATORS`, the file's `propagator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagator {
    /// W3C Trace Context.
    TraceContext,
    /// W3C Baggage.
    Baggage,
}

impl Propagator {
    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
        }
    }

    /// Parses one name (any case). `Ok(None)` for `none`; `Err` with the reason for a name the
    /// specification has but this SDK does not (`b3`, `jaeger`, ...) or an unknown one.
    pub fn parse(name: &str) -> Result<Option<Propagator>, &'static str> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Some(Propagator::TraceContext)),
            "baggage" => Ok(Some(Propagator::Baggage)),
            "none" => Ok(None),
            "b3" | "b3multi" | "jaeger" | "xray" | "ottrace" => {
                Err("not available in this SDK (tracecontext and baggage are)")
            }
            _ => Err("expected tracecontext, baggage or none"),
        }
    }
}

/// The metric exporter's temporality preference
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, the file's `temporality_preference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporalityPreference {
    /// Cumulative for every instrument (the default).
    #[default]
    Cumulative,
    /// Delta for counters, histograms and gauges; cumulative for up-down counters.
    Delta,
    /// Delta for synchronous counters and histograms; cumulative for the rest.
    LowMemory,
}

impl TemporalityPreference {
    /// The environment variable's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TemporalityPreference::Cumulative => "cumulative",
            TemporalityPreference::Delta => "delta",
            TemporalityPreference::LowMemory => "lowmemory",
        }
    }

    /// The SDK's temporality, which maps it per instrument kind as the specification says.
    pub fn sdk(self) -> opentelemetry_sdk::metrics::Temporality {
        use opentelemetry_sdk::metrics::Temporality;
        match self {
            TemporalityPreference::Cumulative => Temporality::Cumulative,
            TemporalityPreference::Delta => Temporality::Delta,
            TemporalityPreference::LowMemory => Temporality::LowMemory,
        }
    }
}

/// The default aggregation of histograms
/// (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistogramAggregation {
    /// Explicit bucket boundaries (the default).
    #[default]
    ExplicitBucket,
    /// Base-2 exponential buckets (max size 160, max scale 20).
    Base2Exponential,
}

impl HistogramAggregation {
    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            HistogramAggregation::ExplicitBucket => "explicit_bucket_histogram",
            HistogramAggregation::Base2Exponential => "base2_exponential_bucket_histogram",
        }
    }
}

/// Which measurements may become exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`).
///
/// Read and reported; the SDK (0.33) records no exemplars yet, so every setting behaves as
/// `always_off` for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExemplarFilter {
    /// Measurements in a sampled span (the default).
    #[default]
    TraceBased,
    /// Every measurement.
    AlwaysOn,
    /// None.
    AlwaysOff,
}

impl ExemplarFilter {
    /// The specification's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExemplarFilter::TraceBased => "trace_based",
            ExemplarFilter::AlwaysOn => "always_on",
            ExemplarFilter::AlwaysOff => "always_off",
        }
    }
}

/// The trace sampler (`OTEL_TRACES_SAMPLER` + `_ARG`, the file's `tracer_provider.sampler`).
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerConfig {
    /// Every span.
    AlwaysOn,
    /// No span.
    AlwaysOff,
    /// A fraction of traces, by trace id.
    TraceIdRatio(f64),
    /// The parent's decision; `root` for spans without a parent. `None` delegates are the
    /// specification's defaults (sampled parent: always on; not sampled: always off).
    ParentBased {
        /// For root spans.
        root: Box<SamplerConfig>,
        /// Remote parent, sampled.
        remote_parent_sampled: Option<Box<SamplerConfig>>,
        /// Remote parent, not sampled.
        remote_parent_not_sampled: Option<Box<SamplerConfig>>,
        /// Local parent, sampled.
        local_parent_sampled: Option<Box<SamplerConfig>>,
        /// Local parent, not sampled.
        local_parent_not_sampled: Option<Box<SamplerConfig>>,
    },
}

impl SamplerConfig {
    /// `ParentBased` over `root` with the default delegates.
    pub fn parent_based(root: SamplerConfig) -> Self {
        SamplerConfig::ParentBased {
            root: Box::new(root),
            remote_parent_sampled: None,
            remote_parent_not_sampled: None,
            local_parent_sampled: None,
            local_parent_not_sampled: None,
        }
    }
}

impl SamplerConfig {
    /// The SDK sampler.
    pub fn build(&self) -> Box<dyn opentelemetry_sdk::trace::ShouldSample> {
        use opentelemetry_sdk::trace::{ParentBasedSampler, Sampler};
        match self {
            SamplerConfig::AlwaysOn => Box::new(Sampler::AlwaysOn),
            SamplerConfig::AlwaysOff => Box::new(Sampler::AlwaysOff),
            SamplerConfig::TraceIdRatio(ratio) => Box::new(Sampler::TraceIdRatioBased(*ratio)),
            SamplerConfig::ParentBased {
                root,
                remote_parent_sampled,
                remote_parent_not_sampled,
                local_parent_sampled,
                local_parent_not_sampled,
            } => {
                let mut sampler = ParentBasedSampler::new(root.build());
                if let Some(s) = remote_parent_sampled {
                    sampler = sampler.with_remote_parent_sampled(s.build());
                }
                if let Some(s) = remote_parent_not_sampled {
                    sampler = sampler.with_remote_parent_not_sampled(s.build());
                }
                if let Some(s) = local_parent_sampled {
                    sampler = sampler.with_local_parent_sampled(s.build());
                }
                if let Some(s) = local_parent_not_sampled {
                    sampler = sampler.with_local_parent_not_sampled(s.build());
                }
                Box::new(sampler)
            }
        }
    }
}

impl Default for SamplerConfig {
    /// `parentbased_always_on`, as the specification says.
    fn default() -> Self {
        SamplerConfig::parent_based(SamplerConfig::AlwaysOn)
    }
}

impl fmt::Display for SamplerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerConfig::AlwaysOn => f.write_str("always_on"),
            SamplerConfig::AlwaysOff => f.write_str("always_off"),
            SamplerConfig::TraceIdRatio(ratio) => write!(f, "traceidratio({ratio})"),
            SamplerConfig::ParentBased {
                root,
                remote_parent_sampled,
                remote_parent_not_sampled,
                local_parent_sampled,
                local_parent_not_sampled,
            } => {
                write!(f, "parentbased({root}")?;
                for (name, delegate) in [
                    ("remote_parent_sampled", remote_parent_sampled),
                    ("remote_parent_not_sampled", remote_parent_not_sampled),
                    ("local_parent_sampled", local_parent_sampled),
                    ("local_parent_not_sampled", local_parent_not_sampled),
                ] {
                    if let Some(delegate) = delegate {
                        write!(f, ", {name}: {delegate}")?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}

/// Attribute, span, event, link and log-record limits. `None`: the specification's default
/// (128 for counts, no limit for value lengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// `OTEL_ATTRIBUTE_COUNT_LIMIT`: the default of every attribute count.
    pub attribute_count: Option<u32>,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub attribute_value_length: Option<u32>,
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`.
    pub span_attribute_count: Option<u32>,
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub span_attribute_value_length: Option<u32>,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`.
    pub span_event_count: Option<u32>,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`.
    pub span_link_count: Option<u32>,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`.
    pub event_attribute_count: Option<u32>,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`.
    pub link_attribute_count: Option<u32>,
    /// `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`.
    pub log_record_attribute_count: Option<u32>,
    /// `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub log_record_attribute_value_length: Option<u32>,
}

/// The specification's default count limit.
pub const DEFAULT_COUNT_LIMIT: u32 = 128;

impl Limits {
    /// The span limits the SDK enforces: a span-specific limit, else the general attribute
    /// count for attribute counts, else 128.
    pub fn span_limits(&self) -> opentelemetry_sdk::trace::SpanLimits {
        let general = self.attribute_count.unwrap_or(DEFAULT_COUNT_LIMIT);
        opentelemetry_sdk::trace::SpanLimits {
            max_attributes_per_span: self.span_attribute_count.unwrap_or(general),
            max_events_per_span: self.span_event_count.unwrap_or(DEFAULT_COUNT_LIMIT),
            max_links_per_span: self.span_link_count.unwrap_or(DEFAULT_COUNT_LIMIT),
            max_attributes_per_event: self.event_attribute_count.unwrap_or(general),
            max_attributes_per_link: self.link_attribute_count.unwrap_or(general),
        }
    }
}

/// A metrics view from the configuration file (`meter_provider.views[]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewConfig {
    /// The instrument name to match; `*` matches any run of characters.
    pub instrument_name: Option<String>,
    /// The instrument kind to match (`counter`, `histogram`, ... as the schema spells them).
    pub instrument_type: Option<String>,
    /// The unit to match.
    pub unit: Option<String>,
    /// The meter name to match.
    pub meter_name: Option<String>,
    /// The meter version to match.
    pub meter_version: Option<String>,
    /// The meter schema URL to match.
    pub meter_schema_url: Option<String>,
    /// The stream's new name.
    pub name: Option<String>,
    /// The stream's new description.
    pub description: Option<String>,
    /// The stream's aggregation.
    pub aggregation: Option<opentelemetry_sdk::metrics::Aggregation>,
    /// The stream's cardinality limit.
    pub cardinality_limit: Option<usize>,
}
