"""Extracting and settling: the project's extraction settings, who extracts which study
(assignments, the pilot round), saving answers as drafts, marking an extraction complete,
and the consensus that makes a study's data. Every write is one function that owns its
transaction and writes its audit events; form edits live in the form builder's module.

Locks, always in this order: a study's record rows (the extraction hold lives there, as
merges and study links lock them), then the ExtractionSettings row where assignments or
rounds change, then the Extraction row whose answers change (the row is the lock for its
answers), the consensus row after the extractions it reads.
"""
