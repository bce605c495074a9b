"""Open data portal: catalog, ingest, standard schemas, CKAN-compatible API, DCAT, datastore."""
