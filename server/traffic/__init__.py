"""What shapes traffic: rate and concurrency limits, faults, the request journal, credential masking."""
