"""Online forms (電子申請): forms as data, once-only prefill, submissions, staff inbox, PDFs."""
