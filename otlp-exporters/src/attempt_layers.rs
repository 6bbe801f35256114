//! What the user puts around each export attempt: a credential hook and their own tower
//! layers (metrics, signing, tracing of the exporter itself).
//!
//! They sit between the retry layer's per-attempt timeout and the transport, so they see every
//! attempt, retries included, with the encoded request: the credential hook outermost (it sets
//! the request's headers), then the user's layers in the order they were added (the first is
//! the outermost, as with `ServiceBuilder`), so a signing layer sees the credentials too.

use std::sync::Arc;

use otlp_core::{BoxError, ExportOutcome, ExportRequest};
use otlp_transport::credentials::{CredentialSource, CredentialsLayer};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

/// The service a user's attempt layer wraps: one attempt through the transport.
pub type AttemptService = BoxCloneSyncService<ExportRequest, ExportOutcome, BoxError>;

type Wrap = Arc<dyn Fn(AttemptService) -> AttemptService + Send + Sync>;

/// The credential hook and the user's layers, applied to every endpoint's transport. Two
/// settings are equal when they hold the same hook and layers (compared by identity).
#[derive(Clone, Default)]
pub struct AttemptLayers {
    layers: Vec<Wrap>,
    credentials: Option<Arc<dyn CredentialSource>>,
}

impl std::fmt::Debug for AttemptLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptLayers")
            .field("layers", &self.layers.len())
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

impl PartialEq for AttemptLayers {
    fn eq(&self, other: &Self) -> bool {
        let same_credentials = match (&self.credentials, &other.credentials) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_credentials
            && self.layers.len() == other.layers.len()
            && self
                .layers
                .iter()
                .zip(&other.layers)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl AttemptLayers {
    /// Adds a layer around each attempt, inside the ones added before.
    pub fn push<L>(&mut self, layer: L)
    where
        L: Layer<AttemptService> + Send + Sync + 'static,
        L::Service: Service<ExportRequest, Response = ExportOutcome, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<ExportRequest>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| {
            BoxCloneSyncService::new(layer.layer(inner))
        }));
    }

    /// Sets the credential hook (replacing an earlier one).
    pub fn set_credentials(&mut self, source: impl CredentialSource) {
        self.credentials = Some(Arc::new(source));
    }

    /// Whether a credential hook is set.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// How many user layers there are.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there is neither a hook nor a layer.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty() && self.credentials.is_none()
    }

    /// `transport` inside the user's layers, inside the credential hook.
    pub(crate) fn wrap(&self, transport: AttemptService) -> AttemptService {
        let inner = self
            .layers
            .iter()
            .rev()
            .fold(transport, |service, wrap| wrap(service));
        match &self.credentials {
            Some(source) => BoxCloneSyncService::new(
                CredentialsLayer::from_shared(Arc::clone(source)).layer(inner),
            ),
            None => inner,
        }
    }
}
