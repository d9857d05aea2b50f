"""Fill a database with province- or nation-scale data for benchmarks (see institutions/scale.py).

    python manage.py seed_scale --regions 1 --institutions 5000 --persons 60000 --years 3      # a province
    python manage.py seed_scale --regions 31 --institutions 40000 --persons 1000000 --years 1  # the nation

It refuses to run on a database that already holds regions, accounts or persons; --force empties those tables
first (TRUNCATE, for benchmark databases only). Every generated account has the password BENCH_PASSWORD.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from institutions import scale


class Command(BaseCommand):
    help = "Generate province- or nation-scale benchmark data fast (COPY); a non-empty database needs --force."

    def add_arguments(self, parser):
        parser.add_argument("--regions", type=int, default=1, help="exam regions (1-31; 湖北 first)")
        parser.add_argument("--institutions", type=int, default=5000, help="institutions over all regions")
        parser.add_argument("--persons", type=int, default=60000, help="trainees a year over all regions")
        parser.add_argument("--years", type=int, default=3, help="exam years, the newest current")
        parser.add_argument("--prefectures", type=int, default=17, help="prefecture offices per region")
        parser.add_argument("--counties", type=int, default=100, help="county offices per region")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same data)")
        parser.add_argument(
            "--force", action="store_true", help="empty the hierarchy, accounts, persons and records first"
        )

    def handle(self, *args, **options):
        if not scale.database_is_empty():
            if not options["force"]:
                raise CommandError(
                    "The database already holds regions, accounts or persons. seed_scale writes into empty "
                    "benchmark databases only; --force empties them first (TRUNCATE)."
                )
            started = time.perf_counter()
            scale.wipe()
            self.stdout.write(f"Emptied the existing data in {time.perf_counter() - started:.1f} s.")
        plan = scale.Plan(
            regions=options["regions"],
            institutions=options["institutions"],
            persons=options["persons"],
            years=options["years"],
            prefectures=options["prefectures"],
            counties=options["counties"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"Generating {plan.regions} region(s), {plan.institutions:,} institutions, {plan.persons:,} persons a "
            f"year for {plan.years} year(s):"
        )
        try:
            timings = scale.Generator(plan, say=self.stdout.write).run()
        except ValueError as error:
            raise CommandError(str(error)) from None
        total = next(seconds for name, seconds, _rows in timings.steps if name == "total")
        commit = next(seconds for name, seconds, _rows in timings.steps if name == "commit")
        self.stdout.write(f"  {'commit':<28} {'':>10}      {commit:8.1f} s")
        self.stdout.write(self.style.SUCCESS(f"Done in {total:.1f} s."))
        self.stdout.write(
            f"Accounts (password {scale.BENCH_PASSWORD}): region offices o<division code> (e.g. o420000), "
            "prefectures and counties likewise (o420100, o420106), institution masters i<province><serial> "
            "(e.g. i4200001)."
        )
