// Data readers and preprocessing (see DataSource.swift).
