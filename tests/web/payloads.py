"""Contract-shaped GraphQL payloads (CONTRACT.md version 2) for tests that need no server.

They follow the Mall customers example: a model on income and spending score with five
segments. Tests of the real API use the API itself; these exercise parsing and chart shaping.
"""

from __future__ import annotations

from typing import Any

FEATURES = ["Annual Income (k$)", "Spending Score (1-100)"]

SPECS = [
    {
        "name": "Annual Income (k$)",
        "label": "Annual Income",
        "unit": "k$",
        "transform": "NONE",
        "min": None,
        "max": None,
        "trainingMin": 15.0,
        "trainingMax": 137.0,
        "median": 61.5,
    },
    {
        "name": "Spending Score (1-100)",
        "label": "Spending Score",
        "unit": "1-100",
        "transform": "NONE",
        "min": None,
        "max": None,
        "trainingMin": 1.0,
        "trainingMax": 99.0,
        "median": 50.0,
    },
]


def model(version: str = "v2", *, active: bool = True, k: int = 5) -> dict[str, Any]:
    return {
        "version": version,
        "k": k,
        "silhouette": 0.5547,
        "inertia": 65.57,
        "nCustomers": 200,
        "features": FEATURES,
        "trainedAt": "2026-12-01T10:00:00+00:00",
        "active": active,
        "datasetId": "ds-mall",
        "datasetName": "mall_customers",
        "engine": "local",
        "source": "mall_customers.csv",
        "featureSpecs": SPECS,
        "missingValues": "DROP",
        "minSegmentShare": 0.02,
        "stability": 0.93,
    }


#: (name, size, income mean, score mean, income z, score z)
SEGMENTS = [
    ("Average", 81, 55.3, 49.5, -0.2, 0.0),
    ("High income, high spending", 39, 86.5, 82.1, 1.0, 1.2),
    ("High income, low spending", 35, 88.2, 17.1, 1.1, -1.3),
    ("Low income, high spending", 22, 25.7, 79.4, -1.3, 1.1),
    ("Low income, low spending", 23, 26.3, 20.9, -1.3, -1.1),
]


def clusters() -> list[dict[str, Any]]:
    out = []
    for cid, (name, size, income, score, z_income, z_score) in enumerate(SEGMENTS):
        drivers = [
            {
                "feature": FEATURES[0],
                "zScore": z_income,
                "direction": "HIGHER" if z_income >= 0 else "LOWER",
            },
            {
                "feature": FEATURES[1],
                "zScore": z_score,
                "direction": "HIGHER" if z_score >= 0 else "LOWER",
            },
        ]
        drivers.sort(key=lambda d: -abs(d["zScore"]))
        out.append(
            {
                "clusterId": cid,
                "name": name,
                "size": size,
                "share": size / 200,
                "stability": 0.9 - 0.1 * cid,
                "features": [
                    {
                        "feature": FEATURES[0],
                        "mean": income,
                        "median": income,
                        "min": income - 10,
                        "max": income + 10,
                        "std": 5.0,
                    },
                    {
                        "feature": FEATURES[1],
                        "mean": score,
                        "median": score,
                        "min": score - 15,
                        "max": score + 15,
                        "std": 8.0,
                    },
                ],
                "drivers": drivers,
                "categories": [
                    {
                        "column": "Gender",
                        "value": "Female",
                        "share": 0.55 + 0.02 * cid,
                        "lift": 1.0,
                    },
                    {"column": "Gender", "value": "Male", "share": 0.45 - 0.02 * cid, "lift": 1.0},
                ],
            }
        )
    return out


def elbow() -> dict[str, Any]:
    return {
        "optimalK": 5,
        "elbowK": 5,
        "points": [
            {"k": k, "inertia": 400.0 / k, "silhouette": 0.55 if k == 5 else 0.4}
            for k in range(2, 11)
        ],
    }


def health(training: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": "ok", "modelLoaded": True, "modelVersion": "v2", "training": training}


def dashboard() -> dict[str, Any]:
    return {
        "health": health(),
        "model": model(),
        "clusters": clusters(),
        "elbow": elbow(),
        "models": [
            {
                "version": "v2",
                "k": 5,
                "silhouette": 0.55,
                "trainedAt": "2026-12-01T10:00:00+00:00",
                "active": True,
                "datasetName": "mall_customers",
            },
            {
                "version": "v1",
                "k": 6,
                "silhouette": 0.41,
                "trainedAt": "2026-11-01T10:00:00+00:00",
                "active": False,
                "datasetName": "customers",
            },
        ],
    }


def column(name: str, role: str, **extra: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "role": role,
        "missing": 0,
        "distinct": 200,
        "min": None,
        "max": None,
        "mean": None,
        "median": None,
        "std": None,
        "skewness": None,
        "suggestedTransform": "NONE",
        "topValues": [],
    }
    base.update(extra)
    return base


def dataset(columns: bool = True) -> dict[str, Any]:
    d = {
        "id": "ds-mall",
        "name": "mall_customers",
        "rows": 200,
        "bytes": 3981,
        "createdAt": "2026-12-01T09:00:00+00:00",
        "bundled": False,
    }
    if columns:
        d["columns"] = [
            column("CustomerID", "IDENTIFIER", min=1.0, max=200.0),
            column(
                "Gender",
                "CATEGORICAL",
                distinct=2,
                topValues=[{"value": "Female", "count": 112}, {"value": "Male", "count": 88}],
            ),
            column(
                "Age",
                "NUMERIC",
                distinct=51,
                min=18.0,
                max=70.0,
                mean=38.85,
                median=36.0,
                std=13.97,
                skewness=0.49,
            ),
            column(
                "Annual Income (k$)",
                "NUMERIC",
                distinct=64,
                min=15.0,
                max=137.0,
                mean=60.56,
                median=61.5,
                std=26.26,
                skewness=0.32,
            ),
            column(
                "Spending Score (1-100)",
                "NUMERIC",
                distinct=84,
                min=1.0,
                max=99.0,
                mean=50.2,
                median=50.0,
                std=25.82,
                skewness=-0.05,
            ),
            column(
                "Revenue",
                "NUMERIC",
                distinct=190,
                missing=3,
                min=0.0,
                max=9000.0,
                mean=700.0,
                median=300.0,
                std=900.0,
                skewness=3.2,
                suggestedTransform="LOG",
            ),
        ]
    return d


def comparison() -> dict[str, Any]:
    return {
        "__typename": "ModelComparison",
        "datasetId": "ds-mall",
        "customers": 200,
        "adjustedRandIndex": 0.72,
        "a": model("v1", active=False, k=3),
        "b": model("v2"),
        "flows": [
            {
                "fromClusterId": 0,
                "fromName": "Old A",
                "toClusterId": 0,
                "toName": "Average",
                "customers": 81,
            },
            {
                "fromClusterId": 0,
                "fromName": "Old A",
                "toClusterId": 3,
                "toName": "Low income, high spending",
                "customers": 22,
            },
            {
                "fromClusterId": 1,
                "fromName": "Old B",
                "toClusterId": 1,
                "toName": "High income, high spending",
                "customers": 39,
            },
            {
                "fromClusterId": 1,
                "fromName": "Old B",
                "toClusterId": 2,
                "toName": "High income, low spending",
                "customers": 35,
            },
            {
                "fromClusterId": 2,
                "fromName": "Old C",
                "toClusterId": 4,
                "toName": "Low income, low spending",
                "customers": 23,
            },
        ],
    }
