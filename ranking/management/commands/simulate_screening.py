import json

from django.core.management.base import BaseCommand, CommandError

from ranking import simulate


class Command(BaseCommand):
    help = (
        "Replay a screening on a labelled CSV (or .csv.gz) with the app's ranking model and "
        "retraining schedule, and write WSS, recall and the stopping advice as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV or .csv.gz with title, abstract and a label column")
        parser.add_argument("--label-column", default="label_included")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--prior-included", type=int, default=1)
        parser.add_argument("--prior-excluded", type=int, default=1)
        parser.add_argument("--out", required=True, help="where to write the result JSON")

    def handle(self, *args, path, label_column, seed, prior_included, prior_excluded, out,
               **options):
        try:
            result = simulate.simulate_file(
                path,
                label_column=label_column,
                seed=seed,
                n_prior_included=prior_included,
                n_prior_excluded=prior_excluded,
            )
        except simulate.InputError as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:  # e.g. more priors than includes
            raise CommandError(f"{path}: {exc}") from exc
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
        self.stdout.write(
            f"{result['n_records']} records, {result['n_included']} included: "
            f"WSS@95 {result['wss_95']}, recall@10% {result['recall_at_10pct']}, "
            f"all found after {result['n_screened_to_all']} ({result['seconds_total']} s)"
        )
