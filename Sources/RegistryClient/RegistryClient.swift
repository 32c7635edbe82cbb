// The OCI distribution API client (blobs, uploads, manifests) over HTTPTransport.
