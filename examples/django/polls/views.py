"""The tutorial's views, plus `hello`: a template and no database, the benchmark's view."""
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import generic

from .models import Choice, Question


class IndexView(generic.ListView):
    template_name = "polls/index.html"
    context_object_name = "latest_question_list"

    def get_queryset(self):
        """The last five published questions (not those set to be published in the future)."""
        return Question.objects.filter(pub_date__lte=timezone.now()).order_by("-pub_date")[:5]


class DetailView(generic.DetailView):
    model = Question
    template_name = "polls/detail.html"

    def get_queryset(self):
        return Question.objects.filter(pub_date__lte=timezone.now())


class ResultsView(generic.DetailView):
    model = Question
    template_name = "polls/results.html"


def vote(request, question_id):
    question = get_object_or_404(Question, pk=question_id)
    try:
        selected_choice = question.choice_set.get(pk=request.POST["choice"])
    except (KeyError, Choice.DoesNotExist):
        return render(
            request,
            "polls/detail.html",
            {"question": question, "error_message": "You didn't select a choice."},
        )
    # F() makes the increment one UPDATE in the database, so two voters at once both count.
    selected_choice.votes = F("votes") + 1
    selected_choice.save()
    # 303: the browser fetches the results with GET, so reloading them never votes twice. The URL
    # is absolute and built from the Host the client sent, so behind a port mapping (-p 1234:80)
    # it names the published port, which is what the proxy in front must make possible.
    response = HttpResponseRedirect(
        request.build_absolute_uri(reverse("polls:results", args=(question.id,)))
    )
    response.status_code = 303
    return response


def hello(request):
    return render(request, "polls/hello.html", {"name": "epserve"})
