"""Analyses built on the same plan pieces as KPI queries: retention, funnels."""
