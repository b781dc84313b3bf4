//! The original service's test data set, regenerated from its facts. (Being written.)
