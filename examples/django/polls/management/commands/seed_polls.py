"""`manage.py seed_polls`: sample questions with choices, so a fresh database has polls to show.

Idempotent: a question that already exists (by its text) is left as it is, votes included.
"""
from django.core.management.base import BaseCommand
from django.utils import timezone

from polls.models import Question

SAMPLES = {
    "What's new?": ["Not much", "The sky", "Just hacking again"],
    "Which server sits in front of Django?": ["epserve", "nginx", "Nothing at all"],
    "Unix socket or TCP?": ["Unix socket", "TCP on loopback"],
}


class Command(BaseCommand):
    help = "Creates the sample polls (questions and their choices) if they are missing."

    def handle(self, *args, **options):
        created = 0
        for text, choices in SAMPLES.items():
            question, new = Question.objects.get_or_create(
                question_text=text, defaults={"pub_date": timezone.now()}
            )
            if new:
                created += 1
                for choice in choices:
                    question.choice_set.create(choice_text=choice, votes=0)
        self.stdout.write(f"{created} poll(s) created, {len(SAMPLES) - created} already there")
