//! Probe definitions (Histograms.json, Scalars.yaml). (Being written.)
