from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraineesConfig(AppConfig):
    name = "trainees"
    verbose_name = _("Trainees and probation records")

    def ready(self):
        from trainees import options  # noqa: F401 (connects the receivers that drop the kept options)
